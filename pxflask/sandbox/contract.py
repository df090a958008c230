"""Contract mode: validate traffic against Xero's OpenAPI specs (openapi-core)."""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPEC_DIR = Path(__file__).parent / "spec"
"""Xero's OpenAPI specs, vendored with their MIT license (spec/README.md)."""
ACCOUNTING_SPEC = SPEC_DIR / "xero_accounting.yaml"
IDENTITY_SPEC = SPEC_DIR / "xero-identity.yaml"
XERO_HOST = "https://api.xero.com"
API_PREFIX = "/api.xro/2.0"

_cache: dict[str, OpenAPI] = {}
_cache_lock = threading.Lock()


def _fix_schema_tree(node: Any) -> None:
    """Apply the README fixes in place: boolean defaults, no readOnly."""
    if isinstance(node, dict):
        if node.get("type") == "boolean":
            for key in ("default", "example"):
                if isinstance(node.get(key), str) and node[key].lower() in (
                    "true",
                    "false",
                ):
                    node[key] = node[key].lower() == "true"
        node.pop("readOnly", None)
        for value in node.values():
            _fix_schema_tree(value)
    elif isinstance(node, list):
        for value in node:
            _fix_schema_tree(value)


def _use_bearer(spec: dict[str, Any]) -> None:
    """Swap the OAuth2 scheme (unsupported by openapi-core) for HTTP bearer."""
    schemes = spec.setdefault("components", {}).setdefault("securitySchemes", {})
    if "OAuth2" in schemes:
        schemes["OAuth2"] = {"type": "http", "scheme": "bearer"}


def _load_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML file with the fast loader when available."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=loader)  # noqa: S506 - safe loader


class _Memoised:
    """An openapi-core factory whose `create` builds each product once.

    openapi-core builds a fresh schema validator (deep-copying the format
    checker) or parameter deserializer for every schema on every exchange. The
    products are stateless and the specs never change, so one per schema serves
    every exchange and validates exactly as before.
    """

    def __init__(self, factory: Any) -> None:
        """Wrap one of openapi-core's factories."""
        self.factory = factory
        self._built: dict[Any, Any] = {}
        self._lock = threading.Lock()

    def create(self, spec: Any, *args: Any, **kwargs: Any) -> Any:
        """The product for these arguments (built on first use)."""
        try:
            key = (id(spec), args, tuple(sorted(kwargs.items())))
            return self._built[key]
        except KeyError:
            product = self.factory.create(spec, *args, **kwargs)
            with self._lock:
                return self._built.setdefault(key, product)
        except TypeError:  # unhashable arguments: no caching
            return self.factory.create(spec, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        """Everything else is the wrapped factory's."""
        return getattr(self.factory, name)


def _speed_up(api: OpenAPI) -> None:
    """Cache path finding, schema validators and parameter deserializers."""
    for validator in (api.request_validator, api.response_validator):
        # openapi-core's typing: the validator classes do not declare path_finder
        finder = validator.path_finder  # type: ignore[union-attr]
        finder.find = lru_cache(maxsize=2048)(finder.find)  # type: ignore[method-assign]
        for name in ("schema_validators_factory", "style_deserializers_factory"):
            setattr(validator, name, _Memoised(getattr(validator, name)))


def load_spec(kind: str) -> OpenAPI:
    """The fixed accounting or identity spec, loaded once per process."""
    with _cache_lock:
        if kind in _cache:
            return _cache[kind]
        data = _load_yaml(ACCOUNTING_SPEC if kind == "accounting" else IDENTITY_SPEC)
        _fix_schema_tree(data)
        _use_bearer(data)
        if kind == "identity":
            conn = data["components"]["schemas"]["Connection"]["properties"]
            for name in ("createdDateUtc", "updatedDateUtc"):
                conn[name].pop("format", None)
        api = OpenAPI.from_dict(data, config=Config(spec_validator_cls=None))
        _speed_up(api)
        _cache[kind] = api
        return api


class SpecRequest:
    """A request as openapi-core sees it, re-rooted on https://api.xero.com."""

    def __init__(
        self,
        method: str,
        path: str,
        query: ImmutableMultiDict,
        headers: Headers,
        body: bytes,
        content_type: str | None,
    ) -> None:
        """Capture the parts of the request that are validated."""
        self.host_url = XERO_HOST
        self.path = path
        self.method = method.lower()
        self.body = body
        self.content_type = content_type or "application/octet-stream"
        self.parameters = RequestParameters(
            query=query, header=headers, cookie=ImmutableMultiDict()
        )

    @property
    def full_url_pattern(self) -> str:
        """Host plus path, used by openapi-core's path finder."""
        return self.host_url + self.path


class SpecResponse:
    """A response as openapi-core sees it."""

    def __init__(
        self, status: int, body: bytes, content_type: str, headers: Headers
    ) -> None:
        """Capture status, body and headers."""
        self.status_code = status
        self.data = body
        self.content_type = content_type
        self.headers = headers


def describe(error: Exception) -> str:
    """A readable one-line description including nested schema errors."""
    parts = [f"{type(error).__name__}: {error}"]
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        for schema_error in getattr(current, "schema_errors", ()) or ():
            where = "/".join(str(p) for p in schema_error.absolute_path)
            parts.append(f"[{where}] {schema_error.message}")
        current = current.__cause__ or current.__context__
    return " | ".join(parts)


_IGNORED_RESPONSE_ERRORS = ("ResponseNotFound",)


class ContractChecker:
    """Validates requests/responses and collects violations as strings."""

    def __init__(self) -> None:
        """Load both specs (cached per process)."""
        self.accounting = load_spec("accounting")
        self.identity = load_spec("identity")

    def _api(self, path: str) -> tuple[OpenAPI, str]:
        """Which spec covers the path, and the path as that spec spells it."""
        if path.lower().startswith("/connections"):
            return self.identity, "/Connections" + path[len("/connections") :]
        return self.accounting, path

    def check(self, request: SpecRequest, response: SpecResponse | None) -> list[str]:
        """Violations for one exchange (response None = request only)."""
        api, request.path = self._api(request.path)
        label = f"{request.method.upper()} {request.path.removeprefix(API_PREFIX)}"
        found = [
            f"request {label}: {describe(err)}"
            for err in api.iter_request_errors(request)
        ]
        if response is not None:
            for err in api.iter_response_errors(request, response):
                if type(err).__name__ in _IGNORED_RESPONSE_ERRORS:
                    continue
                found.append(
                    f"response {response.status_code} {label}: {describe(err)}"
                )
        return found
