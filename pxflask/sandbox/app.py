"""The Flask application factory of the sandbox."""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.datastructures import Headers, ImmutableMultiDict

from .core import Sandbox
from .http import EXTENSION_KEY
from .options import SandboxOptions

API_PREFIX = "/api.xro/2.0"


def _contract_check(sb: Sandbox, response: Response) -> None:
    """Validate one accounting/connections exchange; record violations."""
    from .contract import SpecRequest, SpecResponse

    if sb.contract is None:
        return
    path = request.path
    spec_request = SpecRequest(
        request.method,
        path,
        ImmutableMultiDict(list(request.args.items(multi=True))),
        Headers(request.headers),
        request.get_data(),
        request.content_type,
    )
    spec_response = SpecResponse(
        response.status_code,
        response.get_data(),
        response.mimetype or "",
        Headers(response.headers),
    )
    try:
        found = sb.contract.check(spec_request, spec_response)
    except Exception as exc:  # a checker crash is a finding too
        found = [f"contract checker failed on {request.method} {path}: {exc!r}"]
    for message in found:
        sb.add_violation(message)


def create_sandbox_app(
    options: SandboxOptions | None = None, sandbox: Sandbox | None = None
) -> Flask:
    """A Flask app emulating Xero; its Sandbox is app.extensions["xero_sandbox"]."""
    from .accounting.routes import bp as accounting_bp
    from .control import bp as control_bp
    from .identity import bp as identity_bp

    app = Flask(__name__)
    sb = sandbox or Sandbox(options)
    app.extensions[EXTENSION_KEY] = sb
    app.register_blueprint(identity_bp)
    app.register_blueprint(accounting_bp)
    app.register_blueprint(control_bp)

    @app.after_request
    def _after(response: Response) -> Response:
        """Count statuses and run contract checks."""
        sb.counters.record_status(response.status_code)
        lowered = request.path.lower()
        checked = lowered.startswith(API_PREFIX) or lowered.startswith("/connections")
        if (
            sb.contract_mode
            and checked
            and not request.environ.get("xero_sandbox.no_contract")
        ):
            _contract_check(sb, response)
        return response

    @app.get("/")
    def index() -> dict[str, object]:
        """A small description of the sandbox."""
        return {
            "service": "pxflask Xero sandbox",
            "api": API_PREFIX,
            "tenants": [
                {"tenantId": t.tenant_id, "name": t.name}
                for t in sb.state.tenants.values()
            ],
        }

    return app


def get_sandbox(app: Flask) -> Sandbox:
    """The Sandbox behind an app made by create_sandbox_app."""
    return app.extensions[EXTENSION_KEY]
