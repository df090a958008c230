"""The table of Xero entity kinds: how each collection is written and read."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EntitySpec:
    """How one Xero collection is written and read through the SDK."""

    kind: str
    model: str
    collection: str
    attr: str
    id_field: str
    number_field: str | None = None
    status_field: str | None = "Status"
    create: str | None = None
    upsert: str | None = None
    get: str | None = None
    paged: bool = False
    ids: bool = False
    summary_only: bool = False
    unitdp: bool = False
    statuses: bool = False
    modified_since: bool = True
    sized: bool = True
    """Pages take a pageSize (Quotes: fixed pages of 100)."""
    batched: bool = False
    """Written in batches of up to 50 by the gateway (writes.WRITE_KINDS)."""


ENTITIES: dict[str, EntitySpec] = {
    spec.kind: spec
    for spec in (
        EntitySpec(
            "contacts",
            "Contact",
            "Contacts",
            "contacts",
            "ContactID",
            "ContactNumber",
            "ContactStatus",
            "create_contacts",
            "update_or_create_contacts",
            "get_contacts",
            paged=True,
            ids=True,
            summary_only=True,
            batched=True,
        ),
        EntitySpec(
            "items",
            "Item",
            "Items",
            "items",
            "ItemID",
            "Code",
            None,
            "create_items",
            "update_or_create_items",
            "get_items",
            unitdp=True,
            batched=True,
        ),
        EntitySpec(
            "invoices",
            "Invoice",
            "Invoices",
            "invoices",
            "InvoiceID",
            "InvoiceNumber",
            "Status",
            "create_invoices",
            "update_or_create_invoices",
            "get_invoices",
            paged=True,
            ids=True,
            summary_only=True,
            unitdp=True,
            statuses=True,
            batched=True,
        ),
        EntitySpec(
            "payments",
            "Payment",
            "Payments",
            "payments",
            "PaymentID",
            None,
            "Status",
            "create_payments",
            None,
            "get_payments",
            paged=True,
            batched=True,
        ),
        EntitySpec(
            "credit_notes",
            "CreditNote",
            "CreditNotes",
            "credit_notes",
            "CreditNoteID",
            "CreditNoteNumber",
            "Status",
            "create_credit_notes",
            "update_or_create_credit_notes",
            "get_credit_notes",
            paged=True,
            unitdp=True,
            batched=True,
        ),
        EntitySpec(
            "quotes",
            "Quote",
            "Quotes",
            "quotes",
            "QuoteID",
            "QuoteNumber",
            "Status",
            "create_quotes",
            "update_or_create_quotes",
            "get_quotes",
            paged=True,
            unitdp=False,
            sized=False,
            batched=True,
        ),
        EntitySpec(
            "bank_transactions",
            "BankTransaction",
            "BankTransactions",
            "bank_transactions",
            "BankTransactionID",
            None,
            "Status",
            "create_bank_transactions",
            "update_or_create_bank_transactions",
            "get_bank_transactions",
            paged=True,
            unitdp=True,
            batched=True,
        ),
        EntitySpec(
            "accounts",
            "Account",
            "Accounts",
            "accounts",
            "AccountID",
            "Code",
            "Status",
            "create_account",
            None,
            "get_accounts",
        ),
        EntitySpec(
            "tax_rates",
            "TaxRate",
            "TaxRates",
            "tax_rates",
            "TaxType",
            "TaxType",
            "Status",
            "create_tax_rates",
            None,
            "get_tax_rates",
            modified_since=False,
        ),
        EntitySpec(
            "allocations",
            "Allocation",
            "Allocations",
            "allocations",
            "AllocationID",
            None,
            None,
            "create_credit_note_allocation",
        ),
        EntitySpec(
            "currencies",
            "Currency",
            "Currencies",
            "currencies",
            "Code",
            "Code",
            None,
            None,
            None,
            "get_currencies",
            modified_since=False,
        ),
    )
}


def entity(kind: str) -> EntitySpec:
    """The spec of a kind, with a clear error for an unknown one."""
    try:
        return ENTITIES[kind]
    except KeyError:
        raise ValueError(
            f"unknown Xero entity kind {kind!r}; one of {', '.join(ENTITIES)}"
        ) from None
