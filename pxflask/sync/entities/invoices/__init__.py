"""Invoices: the unit (its step and mapper live beside it)."""

from pxflask.sync.units import DOCUMENT_WATCH, PUSH, Record, Switch, Target, Unit, Watch

SWITCH = Switch(
    "xero_emails_invoices",
    "Xero e-mails the invoice when it is approved",
    on="Yes, once per invoice",
    off="No",
    hint=(
        "Xero sends its own e-mail to the customer (one call each, in the day"
        " budget). A dry run lists them."
    ),
)
"""Xero e-mails an invoice to the customer once pxflask has approved it."""
EMAIL_SETTING, EMAIL_DEFAULT = SWITCH.key, SWITCH.default_value

UNIT = Unit(
    "invoices",
    "Invoices",
    PUSH,
    ("accounts", "taxes", "customers"),
    "pxflask.sync.entities.invoices.step",
    description="tblinvoices -> ACCREC Invoices, totals equal to the cent",
    watches=(Watch("invoices", "id", *DOCUMENT_WATCH),),
    target=Target("invoices", parent="customers", parent_column="clientid"),
    record=Record("read_invoices", number="{formatted_number}"),
    webhook_category="INVOICE",
    write_kind="invoices",
    reconcile_scope="invoices",
    order=70,
    xero_link="/AccountsReceivable/View.aspx?InvoiceID={id}",
    switches=(SWITCH,),
)
