"""Perfex totals, on examples worked out by hand."""

from __future__ import annotations

from decimal import Decimal

from pxflask.perfex.records import Line, LineTax
from pxflask.perfex.totals import compute_totals, document_totals

D = Decimal
VAT = LineTax("VAT", D("20.00"))
CITY = LineTax("City Tax", D("5.00"))
GST = LineTax("GST", D("10.00"))
Z = D("0")


def line(qty, rate, *taxes, optional=False, selected=True, line_id=1):
    """A line with the given quantity, rate and taxes."""
    return Line(
        line_id, "x", None, D(qty), D(rate), None, line_id, taxes, optional, selected
    )


def test_no_discount():
    """2 x 10.00 with VAT 20% + 5.00 untaxed: 25.00 + 4.00 = 29.00."""
    t = compute_totals([line("2", "10.00", VAT), line("1", "5.00")], "", Z, Z, Z)
    assert t.subtotal == D("25.00")
    assert t.taxes == {("VAT", D("20.00")): D("4.00")}
    assert t.total_tax == D("4.00")
    assert t.discount_total == D("0.00")
    assert t.total == D("29.00")


def test_before_tax_percent_reduces_taxes():
    """100.00 + VAT 20%, 10% before tax: discount 10.00, VAT 18.00, total 108.00."""
    t = compute_totals([line("1", "100.00", VAT)], "before_tax", D("10"), Z, Z)
    assert t.discount_total == D("10.00")
    assert t.taxes[("VAT", D("20.00"))] == D("18.00")
    assert t.total_tax == D("18.00")
    assert t.total == D("108.00")


def test_after_tax_percent_discounts_the_gross():
    """100.00 + VAT 20%, 10% after tax: discount 12.00, VAT 20.00, total 108.00."""
    t = compute_totals([line("1", "100.00", VAT)], "after_tax", D("10"), Z, Z)
    assert t.discount_total == D("12.00")
    assert t.total_tax == D("20.00")
    assert t.total == D("108.00")


def test_before_tax_fixed_reduces_taxes_proportionally():
    """200.00 + VAT 40.00, 25.00 fixed before tax: VAT 35.00, total 210.00."""
    lines = [line("1", "100.00", VAT), line("2", "50.00", VAT, line_id=2)]
    t = compute_totals(lines, "before_tax", Z, D("25.00"), Z)
    assert t.subtotal == D("200.00")
    assert t.discount_total == D("25.00")
    assert t.total_tax == D("35.00")
    assert t.total == D("210.00")


def test_after_tax_fixed():
    """200.00 + VAT 40.00 - 25.00 after tax = 215.00."""
    lines = [line("2", "100.00", VAT)]
    t = compute_totals(lines, "after_tax", Z, D("25.00"), Z)
    assert (t.total_tax, t.discount_total, t.total) == (
        D("40.00"),
        D("25.00"),
        D("215.00"),
    )


def test_percent_wins_over_fixed():
    """A non-zero percent selects percent mode; the fixed amount is ignored."""
    t = compute_totals([line("1", "100.00")], "after_tax", D("5"), D("50"), Z)
    assert t.discount_total == D("5.00")


def test_no_discount_type_means_no_discount():
    """discount_type '' ignores percent and fixed amounts."""
    t = compute_totals([line("1", "100.00")], "", D("10"), D("5"), Z)
    assert (t.discount_total, t.total) == (D("0.00"), D("100.00"))


def test_two_taxes_on_one_line():
    """100.00 with VAT 20% and City Tax 5%: both on the net, total 125.00."""
    t = compute_totals([line("1", "100.00", VAT, CITY)], "", Z, Z, Z)
    assert t.taxes == {
        ("VAT", D("20.00")): D("20.00"),
        ("City Tax", D("5.00")): D("5.00"),
    }
    assert t.total_tax == D("25.00")
    assert t.total == D("125.00")


def test_taxes_are_summed_per_name_and_rate():
    """Same name, different rate = different tax; same key sums over lines."""
    vat5 = LineTax("VAT", D("5.00"))
    lines = [
        line("1", "10.00", VAT),
        line("1", "10.00", vat5, line_id=2),
        line("1", "30.00", VAT, GST, line_id=3),
    ]
    t = compute_totals(lines, "", Z, Z, Z)
    assert t.taxes == {
        ("VAT", D("20.00")): D("8.00"),
        ("VAT", D("5.00")): D("0.50"),
        ("GST", D("10.00")): D("3.00"),
    }
    assert t.total == D("61.50")


def test_adjustment_is_added_last_untaxed():
    """125.00 with an adjustment of -0.01 gives 124.99; taxes unchanged."""
    t = compute_totals([line("1", "100.00", VAT, CITY)], "", Z, Z, D("-0.01"))
    assert (t.total_tax, t.total) == (D("25.00"), D("124.99"))


def test_optional_unselected_lines_are_left_out():
    """Optional and unselected: out; optional and selected: in."""
    lines = [
        line("1", "100.00", VAT),
        line("1", "50.00", VAT, optional=True, selected=False, line_id=2),
        line("1", "10.00", VAT, optional=True, selected=True, line_id=3),
        line("1", "1.00", VAT, optional=False, selected=False, line_id=4),
    ]
    t = compute_totals(lines, "", Z, Z, Z)
    assert t.subtotal == D("111.00")
    assert t.total == D("133.20")


def test_line_net_is_rounded_before_taxes():
    """1.5 x 0.33 = 0.495 -> line 0.50; VAT 20% on 0.50 = 0.10."""
    t = compute_totals([line("1.5", "0.33", VAT)], "", Z, Z, Z)
    assert (t.subtotal, t.total_tax, t.total) == (D("0.50"), D("0.10"), D("0.60"))


def test_taxes_are_summed_unrounded_then_rounded_half_up():
    """Three 0.05 lines at 10%: 3 x 0.005 = 0.015 -> 0.02; total 0.165 -> 0.17."""
    lines = [line("1", "0.05", GST, line_id=i) for i in range(1, 4)]
    t = compute_totals(lines, "", Z, Z, Z)
    assert t.taxes[("GST", D("10.00"))] == D("0.02")
    assert (t.total_tax, t.total) == (D("0.02"), D("0.17"))


def test_discount_and_taxes_carry_unrounded_into_total():
    """10.05 + VAT, 12.5% before tax: discount 1.25625, VAT 1.75875, total 10.5525."""
    t = compute_totals([line("1", "10.05", VAT)], "before_tax", D("12.5"), Z, Z)
    assert t.discount_total == D("1.26")
    assert t.total_tax == D("1.76")
    assert t.total == D("10.55")


def test_rounding_can_make_the_parts_differ_from_the_total_by_a_cent():
    """3 x 0.10 at 5% before a 1/3 fixed-discount: stored parts need not add up."""
    lines = [line("1", "0.10", CITY, line_id=i) for i in range(1, 4)]
    t = compute_totals(lines, "before_tax", Z, D("0.01"), D("0.004"))
    # subtotal 0.30, tax 0.015 * (1 - 0.01/0.30) = 0.0145, total 0.3085 -> 0.31
    assert (t.subtotal, t.total_tax, t.discount_total) == (
        D("0.30"),
        D("0.01"),
        D("0.01"),
    )
    assert t.total == D("0.31")


def test_fixed_before_tax_discount_on_zero_subtotal_does_not_divide_by_zero():
    """A fixed discount with a zero subtotal leaves the taxes as they are."""
    t = compute_totals([line("1", "0.00", VAT)], "before_tax", Z, D("5.00"), Z)
    assert (t.subtotal, t.total_tax, t.total) == (D("0.00"), D("0.00"), D("-5.00"))


def test_empty_document():
    """No lines: everything zero."""
    t = compute_totals([], "", Z, Z, Z)
    assert (t.subtotal, t.total_tax, t.total, t.taxes) == (Z, Z, Z, {})


def test_document_totals_reads_a_fixed_discount_from_discount_total():
    """With discount_percent 0, the stored discount_total is the fixed amount."""
    lines = [line("2", "100.00", VAT)]
    t = document_totals(lines, "after_tax", D("0.00"), D("25.00"), None)
    assert t.total == D("215.00")
    t = document_totals(lines, "after_tax", D("10.00"), D("24.00"), D("1.00"))
    assert (t.discount_total, t.total) == (D("24.00"), D("217.00"))
