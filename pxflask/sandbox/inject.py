"""Server-side changes "typed into Xero" by a user, for tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .accounting.common import Ctx, Invalid
from .accounting.lockdates import set_lock_dates
from .accounting.registry import RESOURCES
from .inject_credits import CreditInjection, InjectionError

if TYPE_CHECKING:
    from .core import Sandbox


class Injector(CreditInjection):
    """Create/change records directly in the sandbox, bypassing HTTP.

    Overpayments and prepayments: see inject_credits.CreditInjection.
    """

    def __init__(self, sandbox: Sandbox) -> None:
        """Bind to a sandbox."""
        self.sb = sandbox

    def _ctx(self, tenant_id: str | None) -> Ctx:
        """A context for the tenant (default: demo tenant)."""
        return Ctx(self.sb, self.sb.state.tenant(tenant_id), 4)

    def write(
        self, resource: str, payload: dict[str, Any], tenant_id: str | None = None
    ) -> dict[str, Any]:
        """Create or update (by ID) like a POST; return the Xero view."""
        with self.sb.lock:
            ctx = self._ctx(tenant_id)
            res = RESOURCES[resource]
            try:
                record = res.write(ctx, _plain(payload), "POST")
            except Invalid as exc:
                raise InjectionError("; ".join(exc.messages)) from exc
            return res.view(ctx, record)

    def get(
        self, resource: str, record_id: str, tenant_id: str | None = None
    ) -> dict[str, Any]:
        """The Xero view of one record."""
        with self.sb.lock:
            ctx = self._ctx(tenant_id)
            res = RESOURCES[resource]
            return res.view(ctx, res.get(ctx, record_id))

    def all(self, resource: str, tenant_id: str | None = None) -> list[dict[str, Any]]:
        """Xero views of every record of a resource."""
        with self.sb.lock:
            ctx = self._ctx(tenant_id)
            res = RESOURCES[resource]
            return [res.view(ctx, r) for r in res.table(ctx).values()]

    def contact(self, name: str, tenant_id: str | None = None, **fields: Any) -> dict:
        """Create a contact."""
        return self.write("Contacts", {"Name": name, **fields}, tenant_id)

    def invoice(
        self,
        contact_id: str,
        lines: list[dict[str, Any]] | None = None,
        status: str = "AUTHORISED",
        tenant_id: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Create an invoice (ACCREC unless Type is given)."""
        payload = {
            "Type": "ACCREC",
            "Contact": {"ContactID": contact_id},
            "Status": status,
            "LineItems": lines
            or [
                {
                    "Description": "Service",
                    "Quantity": 1,
                    "UnitAmount": "100.00",
                    "AccountCode": "200",
                }
            ],
            **fields,
        }
        return self.write("Invoices", payload, tenant_id)

    def update(
        self,
        resource: str,
        record_id: str,
        changes: dict[str, Any],
        tenant_id: str | None = None,
    ) -> dict[str, Any]:
        """Change a record as a Xero user would (rules apply)."""
        res = RESOURCES[resource]
        return self.write(resource, {**changes, res.id_field: record_id}, tenant_id)

    def set_status(
        self,
        resource: str,
        record_id: str,
        status: str,
        tenant_id: str | None = None,
        force: bool = False,
    ) -> dict[str, Any]:
        """Change a status under Xero's rules, or bypass them with force=True."""
        if not force:
            return self.update(resource, record_id, {"Status": status}, tenant_id)
        with self.sb.lock:
            ctx = self._ctx(tenant_id)
            res = RESOURCES[resource]
            record = res.get(ctx, record_id)
            record["Status"] = status
            record["UpdatedDateUTC"] = ctx.stamp()
            table, key = res.table(ctx), str(record[res.id_field])
            table.reindex(key if key in table else key.lower())
            return res.view(ctx, record)

    def void_invoice(self, invoice_id: str, tenant_id: str | None = None) -> dict:
        """Void an AUTHORISED invoice."""
        return self.set_status("Invoices", invoice_id, "VOIDED", tenant_id)

    def delete_invoice(self, invoice_id: str, tenant_id: str | None = None) -> dict:
        """Delete a DRAFT/SUBMITTED invoice."""
        return self.set_status("Invoices", invoice_id, "DELETED", tenant_id)

    def archive_contact(self, contact_id: str, tenant_id: str | None = None) -> dict:
        """Archive a contact."""
        return self.update(
            "Contacts", contact_id, {"ContactStatus": "ARCHIVED"}, tenant_id
        )

    def payment(
        self,
        invoice_id: str,
        amount: Decimal | str,
        account_code: str = "090",
        on: date | None = None,
        tenant_id: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Pay an invoice in Xero."""
        payload: dict[str, Any] = {
            "Invoice": {"InvoiceID": invoice_id},
            "Account": {"Code": account_code},
            "Amount": amount,
            **fields,
        }
        if on is not None:
            payload["Date"] = on.isoformat()
        return self.write("Payments", payload, tenant_id)

    def lock_dates(
        self,
        period: date | None = None,
        end_of_year: date | None = None,
        tenant_id: str | None = None,
    ) -> dict[str, Any]:
        """Set the organisation's lock dates as finance would (None: unlocked)."""
        with self.sb.lock:
            organisation = self.sb.state.tenant(tenant_id).organisation
            set_lock_dates(organisation, period, end_of_year)
            return dict(organisation)

    def reconcile_payment(
        self, payment_id: str, tenant_id: str | None = None
    ) -> dict[str, Any]:
        """Mark a payment reconciled, as a bank reconciliation in Xero's UI does."""
        with self.sb.lock:
            ctx = self._ctx(tenant_id)
            res = RESOURCES["Payments"]
            record = res.get(ctx, payment_id)
            record["IsReconciled"] = True
            record["UpdatedDateUTC"] = ctx.stamp()
            return res.view(ctx, record)

    def delete_payment(self, payment_id: str, tenant_id: str | None = None) -> dict:
        """Delete a payment in Xero (the invoice goes back to AUTHORISED)."""
        return self.update("Payments", payment_id, {"Status": "DELETED"}, tenant_id)


def _plain(payload: dict[str, Any]) -> dict[str, Any]:
    """Convert floats to Decimal so injected data follows the money rules."""
    out: dict[str, Any] = {}
    for key, value in payload.items():
        if isinstance(value, float):
            out[key] = Decimal(str(value))
        elif isinstance(value, dict):
            out[key] = _plain(value)
        elif isinstance(value, list):
            out[key] = [_plain(v) if isinstance(v, dict) else v for v in value]
        else:
            out[key] = value
    return out
