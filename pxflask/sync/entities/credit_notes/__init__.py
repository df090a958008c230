"""Credit notes: the unit (its step and mapper live beside it)."""

from pxflask.sync.units import DOCUMENT_WATCH, PUSH, Record, Unit, Watch

UNIT = Unit(
    "credit-notes",
    "Credit notes",
    PUSH,
    ("customers", "taxes", "invoices"),
    "pxflask.sync.entities.credit_notes.step",
    description="tblcreditnotes -> ACCRECCREDIT; tblcredits -> allocations",
    watches=(
        Watch("creditnotes", "id", *DOCUMENT_WATCH),
        Watch(
            "credits",
            "id",
            ("amount", "invoice_id", "credit_id"),
            (),
            owner_key="credit_id",
        ),
    ),
    record=Record("read_credit_notes", number="{formatted_number}"),
    write_kind="credit_notes",
    reconcile_scope="credit_notes",
    default=False,
    parts=("credit-allocations",),
    order=90,
    xero_link="/AccountsPayable/ViewCreditNote.aspx?creditNoteID={id}",
)
