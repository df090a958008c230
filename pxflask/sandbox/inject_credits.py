"""Overpayments and prepayments "typed into Xero" (mixed into the Injector)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from .accounting.common import Ctx, Invalid
from .accounting.credits import allocate_credit, credit_resource

KINDS = {"overpayment": "Overpayments", "prepayment": "Prepayments"}


class InjectionError(ValueError):
    """Xero would have refused the injected change."""


class CreditInjection:
    """Injector methods for customer credit: receive, allocate, refund."""

    sb: Any

    def _ctx(self, tenant_id: str | None) -> Ctx:
        """A context for the tenant (defined by the Injector)."""
        raise NotImplementedError

    def write(
        self, resource: str, payload: dict[str, Any], tenant_id: str | None = None
    ) -> dict[str, Any]:
        """POST-like write (defined by the Injector)."""
        raise NotImplementedError

    def receive_credit(
        self,
        kind: str,
        contact_id: str,
        amount: Decimal | str,
        account_code: str = "090",
        on: date | None = None,
        tenant_id: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """A RECEIVE-OVERPAYMENT/-PREPAYMENT of one line; the credit's view.

        kind is "overpayment" or "prepayment"; a prepayment line goes to sales
        account 200 with its tax (give `LineItems` to choose), an overpayment's
        to Accounts Receivable without tax, as Xero does.
        """
        line: dict[str, Any] = {"Description": f"Customer {kind}", "Quantity": 1}
        line["UnitAmount"] = amount
        if kind == "prepayment":
            line["AccountCode"] = "200"
        payload: dict[str, Any] = {
            "Type": f"RECEIVE-{kind.upper()}",
            "Contact": {"ContactID": contact_id},
            "BankAccount": {"Code": account_code},
            "LineItems": [line],
            **fields,
        }
        if kind == "prepayment":
            payload.setdefault("LineAmountTypes", "Inclusive")
        if on is not None:
            payload["Date"] = on.isoformat()
        tx = self.write("BankTransactions", payload, tenant_id)
        name = KINDS[kind]
        credit_id = tx[credit_resource(name).id_field]
        return self.credit(kind, credit_id, tenant_id)

    def overpayment(self, contact_id: str, amount: Decimal | str, **kw: Any) -> dict:
        """Receive an overpayment from a contact (RECEIVE-OVERPAYMENT)."""
        return self.receive_credit("overpayment", contact_id, amount, **kw)

    def prepayment(self, contact_id: str, amount: Decimal | str, **kw: Any) -> dict:
        """Receive a prepayment from a contact (RECEIVE-PREPAYMENT, tax inclusive)."""
        return self.receive_credit("prepayment", contact_id, amount, **kw)

    def credit(
        self, kind: str, credit_id: str, tenant_id: str | None = None
    ) -> dict[str, Any]:
        """The Xero view of an overpayment or prepayment."""
        with self.sb.lock:
            ctx = self._ctx(tenant_id)
            resource = credit_resource(KINDS[kind])
            return resource.view(ctx, resource.get(ctx, credit_id))

    def allocate_credit(
        self,
        kind: str,
        credit_id: str,
        invoice_id: str,
        amount: Decimal | str,
        on: date | None = None,
        tenant_id: str | None = None,
    ) -> dict[str, Any]:
        """Apply an overpayment/prepayment to an invoice; the Allocation view."""
        raw: dict[str, Any] = {
            "Invoice": {"InvoiceID": invoice_id},
            "Amount": Decimal(str(amount)),
        }
        if on is not None:
            raw["Date"] = on.isoformat()
        with self.sb.lock:
            ctx = self._ctx(tenant_id)
            resource = credit_resource(KINDS[kind])
            try:
                return allocate_credit(ctx, resource, resource.get(ctx, credit_id), raw)
            except Invalid as exc:
                raise InjectionError("; ".join(exc.messages)) from exc

    def refund_credit(
        self,
        kind: str,
        credit_id: str,
        amount: Decimal | str,
        account_code: str = "090",
        on: date | None = None,
        tenant_id: str | None = None,
    ) -> dict[str, Any]:
        """Pay an overpayment/prepayment back to the customer; the Payment view."""
        resource = credit_resource(KINDS[kind])
        payload: dict[str, Any] = {
            resource.kind: {resource.id_field: credit_id},
            "Account": {"Code": account_code},
            "Amount": amount,
        }
        if on is not None:
            payload["Date"] = on.isoformat()
        return self.write("Payments", payload, tenant_id)
