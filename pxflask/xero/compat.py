"""xero-python 15.2.0 without urllib3's deprecated response methods.

xero-python's own response wrapper, ``xero_python.rest.RESTResponse``, implements
``getheaders()``/``getheader()`` by calling urllib3's ``HTTPResponse.getheaders()``
and ``getheader()``, deprecated since urllib3 2.0 in favour of ``.headers``. urllib3
2.6.0 removed them (2.6.1 put them back, urllib3 #3732). Without them every SDK call
made with ``_return_http_data_only=False`` (all of the gateway's calls), every
``ApiException.headers`` and ``str(exc)``, ``RateLimitException.rate_limit`` and the
file downloads fail with AttributeError (xero-python issue #195, open in 15.2.0).

``apply()`` gives ``RESTResponse`` both methods in terms of the urllib3 response's
``headers`` (a case-insensitive ``HTTPHeaderDict``), which is what urllib3's own
methods return, so the SDK works the same on every urllib3 2.x and no longer depends
on the deprecated ones. Only xero-python's class is patched, never urllib3.
``pxflask.xero.client`` applies it once at import; it is idempotent. Drop this module
when xero-python reads ``.headers`` itself.
"""

from __future__ import annotations

from typing import Any

from xero_python.rest import RESTResponse

__all__ = ["apply"]


def _getheaders(self: RESTResponse) -> Any:
    """The response headers (urllib3's HTTPHeaderDict), as urllib3 < 2.6 gave them."""
    return self.urllib3_response.headers


def _getheader(self: RESTResponse, name: str, default: Any = None) -> Any:
    """One response header (case-insensitive), or ``default``."""
    return self.urllib3_response.headers.get(name, default)


def apply() -> None:
    """Give xero-python's RESTResponse the header methods it calls (idempotent)."""
    RESTResponse.getheaders = _getheaders
    RESTResponse.getheader = _getheader
