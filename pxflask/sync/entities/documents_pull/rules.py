"""Rules of the documents pull (pure): which Xero documents, reverse tax mapping,
Xero lines -> Perfex lines, totals equal to the cent or a clear refusal."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pxflask.perfex.document_writes import CREDIT_NOTE, INVOICE, NewLine
from pxflask.perfex.records import Line, LineTax
from pxflask.perfex.totals import compute_totals
from pxflask.sync.entities.documents_pull import SWITCH
from pxflask.sync.mappers.common import ZERO, clip, dec, decimals_needed, round2
from pxflask.sync.mappers.taxes import TaxKey, key_rate

OWN_REFERENCE = "PX-"
"""pxflask's References (PX-I-<id>, PX-C-<id>): documents it sent, never pulled."""
STATUSES = ("AUTHORISED", "PAID")
"""Xero statuses pulled: approved documents (drafts and voids stay in Xero)."""
DESCRIPTION_MAX = 4000


@dataclass(frozen=True)
class Kind:
    """One document kind: Xero's names and the Perfex side."""

    name: str
    """Perfex rel_type: invoice, credit_note."""
    read_kind: str
    xero_type: str
    id_field: str
    number_field: str
    link_entity: str
    """The push side's link entity (its links make a document 'ours')."""
    label: str


KINDS = (
    Kind(
        INVOICE,
        "invoices",
        "ACCREC",
        "InvoiceID",
        "InvoiceNumber",
        "invoices",
        "invoice",
    ),
    Kind(
        CREDIT_NOTE,
        "credit_notes",
        "ACCRECCREDIT",
        "CreditNoteID",
        "CreditNoteNumber",
        "credit-notes",
        "credit note",
    ),
)


def enabled(settings: Mapping[str, str]) -> bool:
    """True when documents made in Xero are pulled into Perfex."""
    return SWITCH.is_on(settings)


def doc_key(kind: Kind, xero_id: str) -> str:
    """The key of a Xero document in this entity's own links (claims, failures)."""
    return f"{kind.name}:{xero_id.lower()}"


def is_ours(record: Mapping[str, Any]) -> bool:
    """True for a document pxflask sent (its Reference is PX-...)."""
    return str(record.get("Reference") or "").startswith(OWN_REFERENCE)


def parse_key_text(text: str) -> TaxKey | None:
    """The tax key of a taxes link ('Eco@2.00+VAT@20.00'); None for expenses'."""
    if ":" in text.split("@", 1)[0] or text == "no-tax":
        return None
    out = []
    for part in text.split("+"):
        name, _, rate = part.rpartition("@")
        try:
            out.append((name, dec(rate)))
        except ArithmeticError:
            return None
    return tuple(sorted(out))


def reverse_taxes(
    settings: Mapping[str, str],
    taxes: Iterable[Any],
    tax_links: Mapping[str, str],
) -> dict[str, set[TaxKey]]:
    """Xero TaxType -> the Perfex tax keys mapped to it (settings, then links).

    `taxes` are Perfex's tbltaxes rows (id, name, rate); `tax_links` maps a
    taxes link key ('VAT@20.00') to its TaxType.
    """
    by_id = {t.id: t for t in taxes}
    chosen: dict[str, set[TaxKey]] = {}
    for name, value in settings.items():
        if name.startswith("tax_rate.") and value and name[9:].isdigit():
            tax = by_id.get(int(name[9:]))
            if tax is not None:
                key = ((tax.name.strip(), round2(dec(tax.rate))),)
                chosen.setdefault(value.strip(), set()).add(key)
    linked: dict[str, set[TaxKey]] = {}
    for text, tax_type in tax_links.items():
        parsed = parse_key_text(text)
        if parsed and tax_type:
            linked.setdefault(tax_type, set()).add(parsed)
    return {t: chosen.get(t) or linked.get(t, set()) for t in {*chosen, *linked}}


@dataclass(frozen=True)
class Converted:
    """A Xero document as Perfex lines, with the totals Perfex will store."""

    lines: tuple[NewLine, ...]
    subtotal: Decimal
    total_tax: Decimal
    total: Decimal
    notes: tuple[str, ...] = ()


def line_taxes(
    tax_type: str,
    reverse: Mapping[str, set[TaxKey]],
    rates: Mapping[str, Decimal],
) -> TaxKey | str:
    """The Perfex taxes of a Xero line's TaxType, or why there are none."""
    keys = reverse.get(tax_type, set())
    rate = rates.get(tax_type)
    if len(keys) > 1:
        names = ", ".join(sorted(" + ".join(f"{n} {r}%" for n, r in k) for k in keys))
        return (
            f"Xero tax rate {tax_type} is mapped from several Perfex taxes ({names}):"
            " keep one mapping for it on Settings → Taxes"
        )
    if keys:
        key = next(iter(keys))
        if rate is not None and key_rate(key) != round2(rate):
            return (
                f"Xero tax rate {tax_type} is {rate}% but the Perfex tax mapped to it"
                f" is {key_rate(key)}%"
            )
        return key
    if rate is not None and rate == ZERO:
        return ()
    shown = f" ({rate}%)" if rate is not None else ""
    return (
        f"Xero tax rate {tax_type}{shown} has no Perfex tax mapped to it: map a"
        " Perfex tax to it on Settings → Taxes (tax_rate.<perfex tax id>), then"
        " sync again"
    )


def _perfex_qty_rate(
    qty: Decimal, unit: Decimal, net: Decimal
) -> tuple[Decimal, Decimal, str | None]:
    """Perfex's qty and rate for a line net (2 dp each); a note when regrouped."""
    if (
        decimals_needed(qty) <= 2
        and decimals_needed(unit) <= 2
        and round2(qty * unit) == net
    ):
        return qty, unit, None
    if qty and decimals_needed(qty) <= 2:
        rate = round2(net / qty)
        if round2(qty * rate) == net:
            return qty, rate, f"unit price {unit} x {qty} less discount: rate {rate}"
    return Decimal(1), net, f"{qty} x {unit} kept as one line of {net}"


def convert(
    record: Mapping[str, Any],
    reverse: Mapping[str, set[TaxKey]],
    rates: Mapping[str, Decimal],
) -> Converted | str:
    """Perfex lines and totals for a Xero document, or why it cannot be pulled.

    Perfex has no per-line discount and always prices net of tax: a line's rate
    is its net over its quantity (or the net as one unit). Perfex's totals of
    those lines (perfex/totals.py) must equal Xero's SubTotal, TotalTax and Total
    to the cent.
    """
    kind = str(record.get("LineAmountTypes") or "Exclusive")
    lines: list[NewLine] = []
    perfex_lines: list[Line] = []
    notes: list[str] = []
    for index, item in enumerate(record.get("LineItems") or [], start=1):
        amount = round2(dec(item.get("LineAmount") or 0))
        tax_amount = round2(dec(item.get("TaxAmount") or 0))
        net = amount - tax_amount if kind == "Inclusive" else amount
        tax_type = str(item.get("TaxType") or "")
        if tax_type:
            found = line_taxes(tax_type, reverse, rates)
            if isinstance(found, str):
                return f"line {index}: {found}"
            key = found
        elif tax_amount:
            return f"line {index} has tax {tax_amount} but no tax rate"
        else:
            key = ()
        qty = dec(item.get("Quantity") if item.get("Quantity") is not None else 1)
        unit = dec(item.get("UnitAmount") or 0)
        qty, rate, note = _perfex_qty_rate(qty, unit, net)
        if note:
            notes.append(f"line {index}: {note}")
        text = clip(str(item.get("Description") or "").strip(), DESCRIPTION_MAX)
        lines.append(NewLine(text or "(no description)", qty, rate, key))
        taxes = tuple(LineTax(n, r) for n, r in key)
        perfex_lines.append(Line(index, text, None, qty, rate, None, index, taxes))
    totals = compute_totals(perfex_lines, "", ZERO, ZERO, ZERO)
    xero = tuple(
        round2(dec(record.get(f) or 0)) for f in ("SubTotal", "TotalTax", "Total")
    )
    mine = (totals.subtotal, totals.total_tax, totals.total)
    if mine != xero:
        return (
            "Perfex's totals of these lines would be subtotal {}, tax {}, total {}"
            " but Xero has {}, {}, {} (Perfex rounds tax per rate over the summed"
            " lines, Xero per line): not pulled, enter it in Perfex by hand"
        ).format(*mine, *xero)
    return Converted(tuple(lines), *mine, tuple(notes))


def contact_parts(contact: Mapping[str, Any]) -> dict[str, str | None]:
    """A Xero contact as the fields of a new Perfex customer and primary contact."""
    name = str(contact.get("Name") or "").strip()
    first = str(contact.get("FirstName") or "").strip()
    last = str(contact.get("LastName") or "").strip()
    if not first and not last:
        first = name
    addresses = [a for a in contact.get("Addresses") or [] if a]
    postal = [a for a in addresses if a.get("AddressType") == "POBOX"]
    address: Mapping[str, Any] = (postal or addresses or [{}])[0]
    street = "\n".join(
        str(address.get(f) or "").strip()
        for f in ("AddressLine1", "AddressLine2", "AddressLine3", "AddressLine4")
        if str(address.get(f) or "").strip()
    )
    phone = next(
        (
            " ".join(
                str(p.get(f) or "").strip()
                for f in ("PhoneCountryCode", "PhoneAreaCode", "PhoneNumber")
                if str(p.get(f) or "").strip()
            )
            for p in contact.get("Phones") or []
            if p.get("PhoneType") == "DEFAULT" and p.get("PhoneNumber")
        ),
        "",
    )
    return {
        "company": name,
        "firstname": first,
        "lastname": last,
        "email": str(contact.get("EmailAddress") or "").strip(),
        "phone": phone[:30],
        "vat": (str(contact.get("TaxNumber") or "").strip() or None),
        "street": street or None,
        "city": str(address.get("City") or "").strip() or None,
        "state": str(address.get("Region") or "").strip() or None,
        "zip": str(address.get("PostalCode") or "").strip() or None,
    }
