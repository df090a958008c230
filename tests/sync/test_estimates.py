"""Estimates -> Xero quotes: mapping, statuses, edits, deletes, crashes, dry runs."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from pxflask.perfex import reads
from pxflask.perfex.records import (
    ESTIMATE_ACCEPTED,
    ESTIMATE_DECLINED,
    ESTIMATE_DRAFT,
    ESTIMATE_EXPIRED,
    ESTIMATE_SENT,
    Estimate,
    Invoice,
)
from pxflask.perfex.totals import compute_totals
from pxflask.sync.entities.estimates.mapper import map_estimate
from pxflask.sync.entities.estimates.walk import route
from pxflask.sync.mappers.documents import xero_document_total
from pxflask.sync.registry import REGISTRY

from .conftest import NO_RETRY, delta
from .factories import D, invoice, line
from .test_invoice_mapper import CTX, rates_for

VAT = (("VAT", "20"),)
ENTITY = ["estimates"]
EXPECTED = {
    ESTIMATE_DRAFT: "DRAFT",
    ESTIMATE_SENT: "SENT",
    ESTIMATE_DECLINED: "DECLINED",
    ESTIMATE_ACCEPTED: "ACCEPTED",
    ESTIMATE_EXPIRED: "SENT",
}


def as_estimate(
    inv: Invoice, status: int = ESTIMATE_SENT, invoice_id: int | None = None
) -> Estimate:
    """The estimate with an invoice's lines, discount and stored totals."""
    return Estimate(
        id=9,
        number=9,
        prefix="EST-",
        number_format=1,
        formatted_number="EST-000009",
        customer_id=inv.customer_id,
        date=inv.date,
        expirydate=date(2025, 5, 1),
        currency=inv.currency,
        subtotal=inv.subtotal,
        total_tax=inv.total_tax,
        total=inv.total,
        adjustment=inv.adjustment,
        discount_percent=inv.discount_percent,
        discount_total=inv.discount_total,
        discount_type=inv.discount_type,
        status=status,
        terms="<p>Net&nbsp;30</p>",
        reference_no="PO-1",
        invoice_id=invoice_id,
        lines=inv.lines,
    )


def expected_status(estimate: Estimate) -> str:
    """The Xero status the mapping promises for a Perfex estimate."""
    return "INVOICED" if estimate.invoice_id else EXPECTED[estimate.status]


@pytest.mark.parametrize(
    ("status", "invoice_id", "xero"),
    [
        (ESTIMATE_DRAFT, None, "DRAFT"),
        (ESTIMATE_SENT, None, "SENT"),
        (ESTIMATE_DECLINED, None, "DECLINED"),
        (ESTIMATE_ACCEPTED, None, "ACCEPTED"),
        (ESTIMATE_EXPIRED, None, "SENT"),
        (ESTIMATE_ACCEPTED, 12, "INVOICED"),
        (ESTIMATE_SENT, 12, "INVOICED"),
    ],
)
def test_status_number_reference_expiry_and_terms(status, invoice_id, xero):
    """Statuses as documented; the number, PX-EST-<id>, ExpiryDate, plain Terms."""
    est = as_estimate(invoice([line("3", "19.99", VAT)]), status, invoice_id)
    m = map_estimate(est, "contact-1", CTX)
    assert m.payload is not None, m.skip
    p = m.payload
    assert p["Status"] == xero and p["QuoteNumber"] == "EST-000009"
    assert p["Reference"] == "PX-EST-9" and p["ExpiryDate"] == "2025-05-01"
    assert p["Terms"] == "Net 30" and p["LineAmountTypes"] == "EXCLUSIVE"
    assert "Type" not in p and "DueDate" not in p


def test_unknown_status_is_skipped_and_discounts_hit_the_cent():
    """Status 9 is not sent; a fixed discount goes as Discount lines, to the cent."""
    odd = map_estimate(as_estimate(invoice([line()]), 9), "c", CTX)
    assert odd.skipped and "status 9" in odd.skip
    inv = invoice(
        [line("3", "19.99", VAT), line("2", "7.33", (("Eco", "7.5"),), line_id=2)],
        discount_type="before_tax",
        discount_fixed="13.37",
    )
    m = map_estimate(as_estimate(inv), "c", CTX)
    assert m.payload is not None
    assert all("DiscountAmount" not in i for i in m.payload["LineItems"])
    assert xero_document_total(m.payload, rates_for(m.payload)) == inv.total


@pytest.mark.parametrize(
    ("current", "target", "path"),
    [
        (None, "DRAFT", ["DRAFT"]),
        (None, "INVOICED", ["SENT", "ACCEPTED", "INVOICED"]),
        (None, "DECLINED", ["SENT", "DECLINED"]),
        ("DRAFT", "ACCEPTED", ["SENT", "ACCEPTED"]),
        ("SENT", "SENT", ["SENT"]),
        ("ACCEPTED", "INVOICED", ["INVOICED"]),
        ("ACCEPTED", "DECLINED", ["SENT", "DECLINED"]),
        ("DECLINED", "ACCEPTED", ["SENT", "ACCEPTED"]),
    ],
)
def test_route_takes_only_moves_xero_allows(current, target, path):
    """Each route starts where Xero allows and never jumps a status."""
    assert route(current, target) == path


def test_estimates_run_only_when_named():
    """Registered, written as quotes, not part of a run that names no entities."""
    assert "estimates" not in [u.name for u in REGISTRY.ordered(None)]
    assert REGISTRY.get("estimates").write_kind == "quotes"


def quotes_by_reference(env) -> dict[str, dict]:
    """Xero's quotes by our Reference (every quote must carry one, once)."""
    quotes = env.xero("Quotes")
    refs = [q.get("Reference") for q in quotes]
    assert len(refs) == len(set(refs)), refs
    return {q["Reference"]: q for q in quotes}


def assert_quotes_match(env) -> None:
    """Every Perfex estimate is one quote: number, status, Total, TotalTax."""
    quotes = quotes_by_reference(env)
    estimates = reads.read_estimates(env.perfex)
    assert estimates
    for est in estimates:
        quote = quotes[f"PX-EST-{est.id}"]
        link = env.link("estimates", est.id)
        assert link is not None and link.state == "synced", (est.id, link)
        assert link.xero_id == quote["QuoteID"]
        assert quote["QuoteNumber"] == est.formatted_number
        assert quote["Status"] == expected_status(est), est.id
        assert (quote["Total"], quote["TotalTax"]) == (est.total, est.total_tax)


def test_create_rerun_edit_status_convert_and_delete(env):
    """Every status lands; edits update; converted -> INVOICED; deleted -> DELETED."""
    assert env.sync().ok
    first = env.sync(entities=ENTITY)
    assert first.ok, first.failed
    assert_quotes_match(env)
    estimates = {e.status: e for e in reads.read_estimates(env.perfex)}
    assert {ESTIMATE_DRAFT, ESTIMATE_EXPIRED, ESTIMATE_DECLINED} <= set(estimates)
    before = env.calls()
    again = env.sync(entities=ENTITY)
    assert not [k for k in delta(before, env.calls()) if k.split()[0] != "GET"]
    assert again.report("estimates").unchanged == len(reads.read_estimates(env.perfex))

    est_table = env.perfex.tables.estimates
    draft = estimates[ESTIMATE_DRAFT]
    edited = compute_totals(draft.lines, "after_tax", D("10"), D(0), D(0))
    env.execute(
        est_table.update()
        .where(est_table.c.id == draft.id)
        .values(
            status=ESTIMATE_ACCEPTED,
            discount_type="after_tax",
            discount_percent=D("10"),
            discount_total=edited.discount_total,
            subtotal=edited.subtotal,
            total_tax=edited.total_tax,
            total=edited.total,
        )
    )
    sent = estimates[ESTIMATE_EXPIRED]
    env.execute(est_table.update().where(est_table.c.id == sent.id).values(invoiceid=1))
    gone = estimates[ESTIMATE_DECLINED]
    env.execute(est_table.delete().where(est_table.c.id == gone.id))
    result = env.sync(entities=ENTITY)
    assert result.ok, result.failed
    deleted = env.link("estimates", gone.id)
    assert deleted.state == "deleted"
    assert env.sandbox.inject.get("Quotes", deleted.xero_id)["Status"] == "DELETED"
    assert_quotes_match(env)
    quote = env.sandbox.inject.get("Quotes", env.link("estimates", draft.id).xero_id)
    assert quote["Total"] == edited.total and quote["Status"] == "ACCEPTED"
    before = env.calls()
    assert env.sync(entities=ENTITY).ok
    assert not [k for k in delta(before, env.calls()) if k.split()[0] != "GET"]


def test_an_accepted_quote_edited_in_perfex_fails_with_the_reason(env):
    """Xero keeps an ACCEPTED quote's lines: a new total fails, named, not sent."""
    assert env.sync().ok and env.sync(entities=ENTITY).ok
    accepted = next(
        e
        for e in reads.read_estimates(env.perfex)
        if e.status == ESTIMATE_ACCEPTED and not e.invoice_id
    )
    est_table = env.perfex.tables.estimates
    env.execute(
        est_table.update()
        .where(est_table.c.id == accepted.id)
        .values(adjustment=D("1.00"), total=accepted.total + D("1.00"))
    )
    result = env.sync(entities=ENTITY)
    assert [k for _, k, _ in result.failed] == [str(accepted.id)]
    assert "can no longer be edited" in result.failed[0][2]
    assert env.link("estimates", accepted.id).state == "failed"


def test_crash_after_the_create_call_adopts_without_duplicates(env):
    """Xero commits the quotes, the answer is lost; the rerun adopts them."""
    assert env.sync().ok
    fragile = env.make_gateway(NO_RETRY)
    env.sandbox.faults.commit_then_fail(1, status=0, path_contains="/Quotes")
    first = env.sync(gateway=fragile, entities=ENTITY)
    assert not first.ok
    made = len(env.xero("Quotes"))
    assert made == len(reads.read_estimates(env.perfex))
    lost = [k for k, link in env.links("estimates").items() if not link.xero_id]
    assert lost, "the lost answer left no estimate to recover"
    result = env.sync(entities=ENTITY)
    assert result.ok, result.failed
    assert len(env.xero("Quotes")) == made
    assert_quotes_match(env)


def test_dry_run_writes_nothing_and_plans_every_quote(env):
    """A dry run plans creates and moves, and neither writes nor links."""
    assert env.sync().ok
    before = env.calls()
    result = env.sync(entities=ENTITY, dry_run=True)
    assert result.ok
    assert not [k for k in delta(before, env.calls()) if k.split()[0] != "GET"]
    assert env.xero("Quotes") == [] and env.links("estimates") == {}
    planned = result.report("estimates").planned
    creates = {a.key for a in planned if a.action == "create"}
    assert creates == {str(e.id) for e in reads.read_estimates(env.perfex)}
    assert {a.payload["Status"] for a in planned if a.action == "move"} >= {
        "ACCEPTED",
        "INVOICED",
    }


def test_a_customer_not_synced_skips_its_estimates(env):
    """Without the customer's contact, the estimate waits (skipped, with why)."""
    result = env.sync(entities=ENTITY)
    report = result.report("estimates")
    assert report.skipped == len(reads.read_estimates(env.perfex))
    assert all("is not synced" in a.reason for a in report.planned)
    assert replace  # dataclasses.replace kept for the factories' users


def test_a_run_stopped_between_moves_finishes_them_next_time(env, monkeypatch):
    """Created SENT, stopped before the moves: not unchanged, moved next run."""
    from pxflask.sync.entities.estimates import step

    assert env.sync().ok

    def died(*args):
        raise SystemExit("the worker was killed between the create and the moves")

    monkeypatch.setattr(step, "_walk", died)
    with pytest.raises(SystemExit):
        env.sync(entities=ENTITY)
    moving = [
        e
        for e in reads.read_estimates(env.perfex)
        if expected_status(e) in ("ACCEPTED", "DECLINED", "INVOICED")
    ]
    stuck = [q for q in env.xero("Quotes") if q["Status"] == "SENT"]
    assert len(stuck) >= len(moving) > 0
    monkeypatch.undo()
    result = env.sync(entities=ENTITY)
    assert result.ok, result.failed
    assert_quotes_match(env)
    before = env.calls()
    assert env.sync(entities=ENTITY).report("estimates").unchanged == len(
        reads.read_estimates(env.perfex)
    )
    assert not [k for k in delta(before, env.calls()) if k.split()[0] != "GET"]
