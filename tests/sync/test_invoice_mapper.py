"""Invoice mapping: worked examples where Xero's total must equal Perfex's."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pxflask.perfex.records import INVOICE_CANCELLED, INVOICE_DRAFT, INVOICE_PAID
from pxflask.sync.entities.invoices.mapper import invoice_number, map_invoice
from pxflask.sync.mappers.common import round2
from pxflask.sync.mappers.documents import (
    DocumentContext,
    allocate,
    xero_document_tax,
    xero_document_total,
)
from pxflask.sync.mappers.line_tax import rounding_cap
from pxflask.sync.mappers.taxes import key_rate

from .factories import EUR, D, invoice, line


def resolve(key) -> str:
    """Tax types named after the key, e.g. 'PX:VAT@20.00'."""
    return "PX:" + "+".join(f"{n}@{r}" for n, r in key)


def rates_for(payload) -> dict[str, Decimal]:
    """The rate of every tax type the payload uses (from the PX: names)."""
    out = {"NONE": Decimal(0)}
    for item in payload["LineItems"]:
        tax_type = item["TaxType"]
        if tax_type.startswith("PX:"):
            key = tuple(
                (p.split("@")[0], Decimal(p.split("@")[1]))
                for p in tax_type[3:].split("+")
            )
            out[tax_type] = key_rate(key)
    return out


CTX = DocumentContext(sales_account="200", rounding_account="860", resolve_tax=resolve)


def mapped_total(inv) -> tuple[Decimal, dict]:
    """Map an invoice and return Xero's predicted total and the payload."""
    m = map_invoice(inv, "contact-1", CTX)
    assert m.payload is not None, m.skip
    return xero_document_total(m.payload, rates_for(m.payload)), m.payload


def descriptions(payload) -> list[str]:
    """The descriptions of the payload's lines."""
    return [i["Description"] for i in payload["LineItems"]]


def test_plain_invoice_maps_fields():
    """Number, dates, currency, status, reference and lines are mapped."""
    inv = invoice([line("2", "50.00", (("VAT", "20"),))], currency=EUR)
    m = map_invoice(inv, "contact-1", CTX)
    p = m.payload
    assert p["Type"] == "ACCREC"
    assert p["InvoiceNumber"] == "INV-000012"
    assert p["Reference"] == "PX-I-7"
    assert p["Contact"] == {"ContactID": "contact-1"}
    assert (p["Date"], p["DueDate"]) == ("2025-04-01", "2025-05-01")
    assert p["CurrencyCode"] == "EUR" and "CurrencyRate" not in p
    assert p["Status"] == "AUTHORISED" and p["LineAmountTypes"] == "Exclusive"
    assert p["LineItems"] == [
        {
            "Description": "Work",
            "Quantity": D("2"),
            "UnitAmount": D("50.00"),
            "AccountCode": "200",
            "TaxType": "PX:VAT@20.00",
        }
    ]
    assert xero_document_total(p, rates_for(p)) == inv.total == D("120.00")
    assert not m.unitdp4


def test_per_line_tax_rounding_moves_a_cent_onto_one_line_tax():
    """Three lines of 0.33 at 10%: Perfex tax 0.10, Xero 3 x 0.03; one line 0.04."""
    lines = [line("1", "0.33", (("GST", "10"),), line_id=i) for i in range(3)]
    inv = invoice(lines)
    assert (inv.total, inv.total_tax) == (D("1.09"), D("0.10"))
    total, payload = mapped_total(inv)
    assert total == D("1.09")
    assert xero_document_tax(payload, rates_for(payload)) == D("0.10")
    assert descriptions(payload) == ["Work"] * 3
    assert [i.get("TaxAmount") for i in payload["LineItems"]] == [D("0.04"), None, None]


def test_the_cent_goes_to_the_line_nearest_the_rounding_boundary():
    """Xero's 3.76 + 3.84 + 3.84 = 11.44 against 11.45: the 3.844 line gets 3.85."""
    lines = [
        line("1", rate, (("GST", "15"),), line_id=i)
        for i, rate in enumerate(["25.06", "25.61", "25.63"])
    ]
    inv = invoice(lines)
    assert inv.total_tax == D("11.45")
    total, payload = mapped_total(inv)
    assert [i.get("TaxAmount") for i in payload["LineItems"]] == [None, None, D("3.85")]
    assert total == inv.total == D("87.75")
    assert xero_document_tax(payload, rates_for(payload)) == D("11.45")


def test_each_tax_type_carries_its_own_perfex_tax():
    """Two tax types: each type's line taxes add up to Perfex's tax for it."""
    vat = [line("1", "0.33", (("VAT", "10"),), line_id=i) for i in range(3)]
    eco = [line("1", "0.05", (("Eco", "10"),), line_id=10 + i) for i in range(3)]
    inv = invoice(vat + eco)
    _, payload = mapped_total(inv)
    by_type: dict[str, Decimal] = {}
    rates = rates_for(payload)
    for item in payload["LineItems"]:
        tax = item.get("TaxAmount")
        if tax is None:
            tax = round2(item["UnitAmount"] * rates[item["TaxType"]] / 100)
        by_type[item["TaxType"]] = by_type.get(item["TaxType"], D(0)) + tax
    assert by_type == {"PX:VAT@10.00": D("0.10"), "PX:Eco@10.00": D("0.01")}
    assert sum(by_type.values()) == inv.total_tax == D("0.11")


def test_no_rounding_line_when_not_needed():
    """Nothing is added when Xero's arithmetic already gives Perfex's total."""
    _, payload = mapped_total(invoice([line("3", "10.00", (("VAT", "20"),))]))
    assert descriptions(payload) == ["Work"]


def test_before_tax_percent_discount_is_a_discount_rate():
    """10% before tax: DiscountRate 10 on each line; total 2 x 90 x 1.2 = 216."""
    inv = invoice(
        [line("1", "100", (("VAT", "20"),), line_id=1), line("1", "80", line_id=2)],
        discount_type="before_tax",
        discount_percent="10",
    )
    total, payload = mapped_total(inv)
    assert [i["DiscountRate"] for i in payload["LineItems"]] == [D("10"), D("10")]
    assert total == inv.total == D("180.00")


def test_before_tax_fixed_discount_is_shared_over_lines():
    """A fixed 30 off 100 + 200 becomes DiscountAmount 10 and 20."""
    inv = invoice(
        [
            line("1", "100", (("VAT", "20"),), line_id=1),
            line("2", "100", (("VAT", "20"),), line_id=2),
        ],
        discount_type="before_tax",
        discount_fixed="30",
    )
    total, payload = mapped_total(inv)
    assert [i["DiscountAmount"] for i in payload["LineItems"]] == [D("10"), D("20")]
    assert total == inv.total == D("324.00")


def test_after_tax_discount_is_an_untaxed_negative_line():
    """5% after tax on 120 gross: a -6.00 'Discount 5%' line without tax."""
    inv = invoice(
        [line("1", "100", (("VAT", "20"),))],
        discount_type="after_tax",
        discount_percent="5",
    )
    total, payload = mapped_total(inv)
    assert payload["LineItems"][1]["Description"] == "Discount 5%"
    assert payload["LineItems"][1]["UnitAmount"] == D("-6.00")
    assert payload["LineItems"][1]["TaxType"] == "NONE"
    assert total == inv.total == D("114.00")


def test_adjustment_is_an_untaxed_line_on_the_rounding_account():
    """An adjustment of -0.40 is one line on account 860 without tax."""
    inv = invoice([line("1", "10.40")], adjustment="-0.40")
    total, payload = mapped_total(inv)
    assert payload["LineItems"][1]["Description"] == "Adjustment"
    assert payload["LineItems"][1]["AccountCode"] == "860"
    assert total == inv.total == D("10.00")


def test_several_taxes_on_a_line_use_one_combined_tax_type():
    """VAT 20% + Eco 2% on one line -> one tax type with rate 22."""
    inv = invoice([line("1", "100", (("VAT", "20"), ("Eco", "2")))])
    total, payload = mapped_total(inv)
    assert payload["LineItems"][0]["TaxType"] == "PX:Eco@2.00+VAT@20.00"
    assert total == D("122.00")


def test_unselected_optional_lines_are_left_out():
    """An optional line the customer did not pick is not sent."""
    inv = invoice(
        [
            line("1", "10", line_id=1),
            line("1", "99", line_id=2, optional=True, selected=False),
        ]
    )
    total, payload = mapped_total(inv)
    assert len(payload["LineItems"]) == 1 and total == D("10.00")


def test_description_strips_html_and_is_clipped():
    """Long description joins with a newline, tags and entities are removed."""
    inv = invoice(
        [
            line(
                description="Design",
                long_description="Logo &amp; <b>site</b><br />" + "x" * 5000,
            )
        ]
    )
    _, payload = mapped_total(inv)
    text = payload["LineItems"][0]["Description"]
    assert text.startswith("Design\nLogo & site\nxxx")
    assert len(text) == 4000


def test_unit_amount_with_four_decimals_asks_for_unitdp4():
    """A rate with 4 decimals sets the unitdp4 flag."""
    m = map_invoice(invoice([line("3", "0.3333")]), "c", CTX)
    assert m.unitdp4


def test_statuses():
    """Paid -> AUTHORISED; cancelled -> VOIDED; drafts skipped or DRAFT by setting."""
    assert (
        map_invoice(invoice([line()], status=INVOICE_PAID), "c", CTX).payload["Status"]
        == "AUTHORISED"
    )
    assert (
        map_invoice(invoice([line()], status=INVOICE_CANCELLED), "c", CTX).payload[
            "Status"
        ]
        == "VOIDED"
    )
    draft = invoice([line()], status=INVOICE_DRAFT)
    assert map_invoice(draft, "c", CTX).skip == "draft (setting drafts=skip)"
    ctx = DocumentContext("200", "860", resolve, drafts="draft")
    m = map_invoice(draft, "c", ctx)
    assert m.payload["Status"] == "DRAFT"
    assert m.payload["InvoiceNumber"] == "INV-DRAFT-7" == invoice_number(draft)


def test_negative_total_is_skipped():
    """A negative invoice is a credit note's job."""
    m = map_invoice(invoice([line("1", "-5")]), "c", CTX)
    assert m.skipped and "negative" in m.skip


def test_stored_total_unlike_its_lines_fails_with_both_figures():
    """A 60.00 gap (Perfex 3.4.0's estimate conversion) fails; no -60 Rounding."""
    inv = invoice([line("1", "1000", (("VAT", "20"),))], total=D("1140.00"))
    m = map_invoice(inv, "c", CTX)
    assert m.payload is None and m.error is not None
    assert "stored total 1140.00" in m.error and "lines come to 1200.00" in m.error
    assert "fix the invoice in Perfex" in m.error


def test_a_cancelled_invoice_with_such_a_gap_is_still_voided():
    """Only voided in Xero, its lines do not matter: it is not failed."""
    inv = invoice([line("1", "10")], total=D("15.00"), status=INVOICE_CANCELLED)
    m = map_invoice(inv, "c", CTX)
    assert m.error is None and m.payload["Status"] == "VOIDED"


def test_a_gap_within_the_cap_is_a_rounding_line():
    """Two cents off (no discount): an untaxed Rounding line, TotalTax untouched."""
    inv = invoice([line("1", "10", (("VAT", "20"),))], total=D("12.02"))
    m = map_invoice(inv, "c", CTX)
    assert m.payload is not None, m.error
    rounding = m.payload["LineItems"][-1]
    assert (rounding["Description"], rounding["UnitAmount"]) == ("Rounding", D("0.02"))
    assert rounding["TaxType"] == "NONE"
    assert xero_document_tax(m.payload, rates_for(m.payload)) == D("2.00")
    assert map_invoice(invoice([line("1", "10")], total=D("10.03")), "c", CTX).error


def test_rounding_cap_grows_with_lines_xero_rounds():
    """0.02 without discounts; half a cent more per discounted line, rounded up."""
    plain = [{"UnitAmount": D("1"), "Quantity": D("1")}] * 5
    discounted = [{**plain[0], "DiscountRate": D("10")}] * 5
    assert rounding_cap(plain) == D("0.02")
    assert rounding_cap(discounted[:1]) == D("0.03")
    assert rounding_cap(discounted) == D("0.05")


def test_xero_rate_unlike_the_perfex_rate_fails():
    """GST 10% mapped to a 15% Xero rate: the invoice fails naming both."""
    ctx = DocumentContext(
        "200", "860", lambda key: "OUTPUT2", tax_rates={"OUTPUT2": D("15")}
    )
    inv = invoice([line("1", "100", (("GST", "10"),))])
    m = map_invoice(inv, "c", ctx)
    assert m.payload is None and m.error is not None
    assert "OUTPUT2 is 15% in Xero" in m.error and "are 10%" in m.error
    assert "tax 10.00 in Perfex, 15.00 in Xero" in m.error


def test_known_xero_rate_equal_to_perfex_is_used():
    """A key mapped to an existing Xero rate of the same percentage syncs exactly."""
    ctx = DocumentContext(
        "200", "860", lambda key: "OUTPUT2", tax_rates={"OUTPUT2": D("10")}
    )
    inv = invoice([line("1", "100", (("GST", "10"),))])
    m = map_invoice(inv, "c", ctx)
    rates = {"OUTPUT2": D("10"), "NONE": D(0)}
    assert xero_document_total(m.payload, rates) == D("110.00")
    assert xero_document_tax(m.payload, rates) == D("10.00")


@pytest.mark.parametrize(
    ("total", "weights", "shares"),
    [
        ("30", ["100", "200"], ["10", "20"]),
        ("0.10", ["1", "1", "1"], ["0.04", "0.03", "0.03"]),
        ("1.00", ["0", "5"], ["0", "1.00"]),
    ],
)
def test_allocate_sums_exactly(total, weights, shares):
    """Largest-remainder allocation adds up to the total to the cent."""
    out = allocate(D(total), [D(w) for w in weights])
    assert out == [D(s) for s in shares]
    assert sum(out) == D(total)
