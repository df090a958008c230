"""Pure mappers: Perfex records -> plain dicts in Xero's JSON shape (and back)."""

from __future__ import annotations

from .accounts import (
    account_to_expense_category,
    account_to_payment_mode,
    bank_account_number,
    is_payment_account,
    map_payment_mode_account,
    payment_mode_code,
    split_bank_account_number,
)
from .common import Mapped, strip_html
from .contacts import (
    contact_name,
    contact_number,
    customer_id_from_number,
    disambiguate_name,
    map_contact,
    same_customer,
)
from .invoices import (
    InvoiceContext,
    invoice_number,
    map_invoice,
    xero_invoice_total,
    xero_status,
)
from .items import item_code, item_names, map_item
from .payments import map_payment, payment_account_for
from .taxes import (
    TaxKey,
    map_tax_rate,
    tax_key,
    tax_rate_name,
    tax_rate_to_perfex,
    xero_rate_key,
    xero_rate_of,
)

__all__ = [
    "InvoiceContext",
    "Mapped",
    "TaxKey",
    "account_to_expense_category",
    "account_to_payment_mode",
    "bank_account_number",
    "contact_name",
    "contact_number",
    "customer_id_from_number",
    "disambiguate_name",
    "invoice_number",
    "is_payment_account",
    "item_code",
    "item_names",
    "map_contact",
    "map_invoice",
    "map_item",
    "map_payment",
    "map_payment_mode_account",
    "map_tax_rate",
    "payment_account_for",
    "payment_mode_code",
    "same_customer",
    "split_bank_account_number",
    "strip_html",
    "tax_key",
    "tax_rate_name",
    "tax_rate_to_perfex",
    "xero_invoice_total",
    "xero_rate_key",
    "xero_rate_of",
    "xero_status",
]
