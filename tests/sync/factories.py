"""Small builders of Perfex records for the sync tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pxflask.perfex.records import (
    INVOICE_UNPAID,
    Address,
    Contact,
    Country,
    Currency,
    Customer,
    Invoice,
    Line,
    LineTax,
)
from pxflask.perfex.totals import compute_totals

USD = Currency(id=1, code="USD", symbol="$", is_default=True)
EUR = Currency(id=2, code="EUR", symbol="€", is_default=False)
GBP = Currency(id=3, code="GBP", symbol="£", is_default=False)
UK = Country(id=235, iso2="GB", short_name="United Kingdom")


def D(value: str | int) -> Decimal:  # noqa: N802 - reads like a literal
    """A Decimal literal."""
    return Decimal(str(value))


def line(
    qty: str = "1",
    rate: str = "100",
    taxes: tuple[tuple[str, str], ...] = (),
    *,
    line_id: int = 1,
    description: str = "Work",
    long_description: str | None = None,
    optional: bool = False,
    selected: bool = True,
) -> Line:
    """An invoice line with (name, rate) taxes."""
    return Line(
        id=line_id,
        description=description,
        long_description=long_description,
        qty=D(qty),
        rate=D(rate),
        unit=None,
        item_order=line_id,
        taxes=tuple(LineTax(name=n, rate=D(r)) for n, r in taxes),
        is_optional=optional,
        is_selected=selected,
    )


def invoice(
    lines: list[Line],
    *,
    invoice_id: int = 7,
    discount_type: str = "",
    discount_percent: str = "0",
    discount_fixed: str = "0",
    adjustment: str = "0",
    status: int = INVOICE_UNPAID,
    currency: Currency = USD,
    total: Decimal | None = None,
) -> Invoice:
    """An invoice whose stored totals are Perfex's own (unless total is given)."""
    t = compute_totals(
        lines, discount_type, D(discount_percent), D(discount_fixed), D(adjustment)
    )
    return Invoice(
        id=invoice_id,
        number=12,
        prefix="INV-",
        number_format=1,
        formatted_number="INV-000012",
        customer_id=3,
        date=date(2025, 4, 1),
        duedate=date(2025, 5, 1),
        currency=currency,
        subtotal=t.subtotal,
        total_tax=t.total_tax,
        total=t.total if total is None else total,
        adjustment=D(adjustment),
        discount_percent=D(discount_percent),
        discount_total=t.discount_total,
        discount_type=discount_type,
        status=status,
        clientnote=None,
        terms=None,
        datecreated=None,
        lines=tuple(lines),
    )


def address(street: str | None = None, city: str | None = None) -> Address:
    """An address in the UK (or an empty one)."""
    return Address(
        street=street,
        city=city,
        state=None,
        zip="SW1A 1AA" if street else None,
        country=UK if street else None,
    )


def customer(
    customer_id: int = 3,
    company: str | None = "Acme Ltd",
    *,
    email: str = "jane@acme.test",
    phone: str | None = "+44 20 7946 0000",
    currency_id: int = 0,
    with_contact: bool = True,
) -> Customer:
    """A customer with a primary contact and billing/shipping addresses."""
    person = (
        Contact(
            id=11,
            customer_id=customer_id,
            firstname="Jane",
            lastname="Doe",
            email=email,
            phone="+44 7700 900000",
            is_primary=True,
            active=True,
        )
        if with_contact
        else None
    )
    return Customer(
        id=customer_id,
        company=company,
        vat="GB123456789",
        phone=phone,
        website=None,
        active=True,
        default_currency_id=currency_id,
        address=address(),
        billing=address("1 High St<br />Floor 2", "London"),
        shipping=address("Dock 4", "Tilbury"),
        primary_contact=person,
        datecreated=None,
    )
