"""One instance of each resource, by collection name."""

from __future__ import annotations

from .banktransactions import BankTransactions
from .common import Resource
from .contacts import Contacts
from .credit_notes import CreditNotes
from .credits import Overpayments, Prepayments
from .invoices import Invoices
from .items import Items
from .payments import Payments
from .quotes import Quotes
from .settings import Accounts, TaxRates
from .tracking import TrackingCategories

RESOURCES: dict[str, Resource] = {
    r.name: r
    for r in (
        Accounts(),
        TaxRates(),
        Contacts(),
        Items(),
        Invoices(),
        CreditNotes(),
        Quotes(),
        Payments(),
        BankTransactions(),
        Overpayments(),
        Prepayments(),
        TrackingCategories(),
    )
}
