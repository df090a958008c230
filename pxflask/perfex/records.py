"""Plain records read from Perfex: frozen dataclasses, money as Decimal."""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from itertools import repeat
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")
T = TypeVar("T")


def present(value: T | None) -> T:
    """A field of an undamaged record: only a damaged one holds None there."""
    if value is None:
        raise ValueError("a damaged record's field was used; it should be left out")
    return value


# tblinvoices.status
INVOICE_UNPAID = 1
INVOICE_PAID = 2
INVOICE_PARTIALLY_PAID = 3
INVOICE_OVERDUE = 4
INVOICE_CANCELLED = 5
INVOICE_DRAFT = 6
INVOICE_STATUS_NAMES = {
    INVOICE_UNPAID: "unpaid",
    INVOICE_PAID: "paid",
    INVOICE_PARTIALLY_PAID: "partially_paid",
    INVOICE_OVERDUE: "overdue",
    INVOICE_CANCELLED: "cancelled",
    INVOICE_DRAFT: "draft",
}
DRAFT_NUMBER = 1_000_000_000

# tblcreditnotes.status
CREDIT_NOTE_OPEN = 1
CREDIT_NOTE_CLOSED = 2
CREDIT_NOTE_VOID = 3

# tblestimates.status (converted: invoiceid set, whatever the status)
ESTIMATE_DRAFT = 1
ESTIMATE_SENT = 2
ESTIMATE_DECLINED = 3
ESTIMATE_ACCEPTED = 4
ESTIMATE_EXPIRED = 5


@dataclass(frozen=True, slots=True)
class Country:
    """A row of tblcountries."""

    id: int
    iso2: str | None
    short_name: str | None


@dataclass(frozen=True, slots=True)
class Address:
    """A street address with its country resolved."""

    street: str | None
    city: str | None
    state: str | None
    zip: str | None
    country: Country | None


@dataclass(frozen=True, slots=True)
class Contact:
    """A customer's contact person (tblcontacts)."""

    id: int
    customer_id: int
    firstname: str
    lastname: str
    email: str
    phone: str | None
    is_primary: bool
    active: bool


@dataclass(frozen=True, slots=True)
class Currency:
    """A Perfex currency (tblcurrencies); `code` is the ISO name."""

    id: int
    code: str
    symbol: str
    is_default: bool


@dataclass(frozen=True, slots=True)
class Customer:
    """A customer (tblclients) with its primary contact and addresses."""

    id: int
    company: str | None
    vat: str | None
    phone: str | None
    website: str | None
    active: bool
    default_currency_id: int
    address: Address
    billing: Address
    shipping: Address
    primary_contact: Contact | None
    datecreated: datetime | None

    @property
    def is_individual(self) -> bool:
        """True when the customer has no company name (a person)."""
        return not (self.company or "").strip()


@dataclass(frozen=True, slots=True)
class Tax:
    """A Perfex tax (tbltaxes)."""

    id: int
    name: str
    rate: Decimal


@dataclass(frozen=True, slots=True)
class Item:
    """A catalogue item (tblitems) with its taxes."""

    id: int
    description: str
    long_description: str | None
    rate: Decimal
    unit: str | None
    group_id: int
    tax_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class PaymentMode:
    """An offline payment mode (tblpayment_modes)."""

    id: int
    name: str
    description: str | None
    active: bool
    invoices_only: bool
    expenses_only: bool


@dataclass(frozen=True, slots=True)
class LineTax:
    """One tax applied to one line (tblitem_tax): name and rate snapshot."""

    name: str
    rate: Decimal


@dataclass(frozen=True, slots=True)
class Line:
    """An invoice or credit-note line (tblitemable) with its taxes."""

    id: int
    description: str
    long_description: str | None
    qty: Decimal
    rate: Decimal
    unit: str | None
    item_order: int
    taxes: tuple[LineTax, ...]
    is_optional: bool = False
    is_selected: bool = True

    @property
    def counts(self) -> bool:
        """False for optional lines the customer did not select (not in totals)."""
        return self.is_selected or not self.is_optional


@dataclass(frozen=True, slots=True)
class SalesDocument:
    """What every Perfex sales document has: number, customer, totals, lines, damage.

    Invoices, credit notes and estimates extend it; a document type's table and
    columns are its ``DocumentSpec`` (documents.py).
    """

    id: int
    number: int
    prefix: str
    number_format: int
    formatted_number: str
    customer_id: int
    date: date
    currency: Currency
    subtotal: Decimal
    total_tax: Decimal
    total: Decimal
    adjustment: Decimal
    discount_percent: Decimal
    discount_total: Decimal
    discount_type: str
    status: int
    lines: tuple[Line, ...] = field(default=(), kw_only=True)
    damaged: str | None = field(default=None, kw_only=True)
    """Why the record cannot be used as stored (column and value), else None."""


@dataclass(frozen=True, slots=True)
class Invoice(SalesDocument):
    """An invoice (tblinvoices) with lines and the fields a sync needs."""

    duedate: dt.date | None
    clientnote: str | None
    terms: str | None
    datecreated: datetime | None

    @property
    def status_name(self) -> str:
        """The status as a word (unpaid, paid, ...)."""
        return INVOICE_STATUS_NAMES.get(self.status, f"status-{self.status}")


@dataclass(frozen=True, slots=True)
class Payment:
    """A payment recorded against an invoice (tblinvoicepaymentrecords)."""

    id: int
    invoice_id: int
    amount: Decimal | None
    mode: str | None
    method: str | None
    date: dt.date | None
    daterecorded: datetime | None
    note: str | None
    transaction_id: str | None
    damaged: str | None = None
    """Why the record cannot be used as stored (column and value), else None."""

    @property
    def is_gateway(self) -> bool:
        """True when the mode is a gateway id (stripe, paypal, ...), not a mode id."""
        return bool(self.mode) and not str(self.mode).isdigit()


@dataclass(frozen=True, slots=True)
class ExpenseCategory:
    """An expense category (tblexpenses_categories)."""

    id: int
    name: str
    description: str | None


@dataclass(frozen=True, slots=True)
class Expense:
    """An expense (tblexpenses); amount is net, taxes apply on it."""

    id: int
    category_id: int
    currency: Currency
    amount: Decimal | None
    tax_ids: tuple[int, ...]
    name: str | None
    note: str | None
    reference_no: str | None
    customer_id: int
    payment_mode: str | None
    date: dt.date | None
    dateadded: datetime | None
    damaged: str | None = None
    """Why the record cannot be used as stored (column and value), else None."""


@dataclass(frozen=True, slots=True)
class CreditNote(SalesDocument):
    """A credit note (tblcreditnotes) with lines."""

    reference_no: str | None


@dataclass(frozen=True, slots=True)
class Estimate(SalesDocument):
    """An estimate (tblestimates) with lines; `invoice_id` once converted."""

    expirydate: dt.date | None
    terms: str | None
    reference_no: str | None
    invoice_id: int | None


@dataclass(frozen=True, slots=True)
class CreditApplication:
    """A credit-note amount applied to an invoice (a tblcredits row)."""

    id: int
    credit_note_id: int
    invoice_id: int
    amount: Decimal | None
    date: dt.date | None
    damaged: str | None = None
    """Why the record cannot be used as stored (column and value), else None."""


# tblstaff.two_factor_auth_enabled
TWO_FACTOR_OFF = 0
TWO_FACTOR_EMAIL = 1
TWO_FACTOR_AUTHENTICATOR = 2


@dataclass(frozen=True, slots=True)
class Staff:
    """A staff member (tblstaff), with what sign-in checks: password hash, 2FA."""

    id: int
    email: str
    firstname: str
    lastname: str
    password_hash: str = field(repr=False)
    admin: bool
    active: bool
    two_factor: int = TWO_FACTOR_OFF
    """two_factor_auth_enabled: 0 off, 1 code by e-mail, 2 Google Authenticator."""
    authenticator_secret: str = field(default="", repr=False)
    """google_auth_secret (base32); empty when unset or the column is absent."""

    @property
    def full_name(self) -> str:
        """First and last name."""
        return f"{self.firstname} {self.lastname}".strip()


# ------------------------------------------------------------------ bulk building
# A frozen dataclass's __init__ sets each field through object.__setattr__ in Python,
# which dominates bulk reads. build_records makes the same records (same class,
# fields, equality, hash) column by column with each slot's setter, in C loops.

_new = object.__new__
_consume: Callable[[Iterable[object]], None] = deque[object](maxlen=0).extend
_SETTERS: dict[type, tuple[Callable[[object, object], None], ...]] = {}


def _slot_setters(cls: type) -> tuple[Callable[[object, object], None], ...]:
    """The slot setters of a frozen slotted dataclass, in field order (cached)."""
    found = _SETTERS.get(cls)
    if found is None:
        found = _SETTERS[cls] = tuple(getattr(cls, f.name).__set__ for f in fields(cls))
    return found


def build_records(
    cls: type[R], count: int, columns: Sequence[Iterable[object]]
) -> list[R]:
    """count records of a frozen slotted dataclass from one iterable per field.

    Columns come in field order, each yielding at least count values; every field
    must be given (defaults do not apply).
    """
    setters = _slot_setters(cls)
    if len(columns) != len(setters):
        raise TypeError(f"{cls.__name__} has {len(setters)} fields, not {len(columns)}")
    records = list(map(_new, repeat(cls, count)))
    for setter, column in zip(setters, columns, strict=True):
        _consume(map(setter, records, column))
    if records:  # a short column leaves the last record's slot unset: fail loudly
        last = records[-1]
        for f in fields(cls):
            getattr(last, f.name)
    return records
