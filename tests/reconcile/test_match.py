"""matched_by, date window and totals side by side."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from pxflask.reconcile import reconcile
from tests.reconcile.helpers import clean_inputs, flagged, unpaid_without_payments


def test_matched_by_link_number_fuzzy_and_one_sided() -> None:
    """Links first, then numbers, then customer + date + total; '' when one-sided."""
    inputs = clean_inputs(links=True)
    perfex, xero, links = (
        inputs.perfex_invoices,
        inputs.xero_invoices.copy(),
        inputs.links,
    )
    by_link = perfex.loc[perfex["status"] == "paid", "perfex_id"].iloc[0]
    numbered, fuzzy = (
        perfex.loc[perfex["status"] == "unpaid", "perfex_id"].iloc[[0, 1]].tolist()
    )
    number_of = perfex.set_index("perfex_id")["invoice_number"]
    # drop the links of two invoices; renumber one of them in Xero
    gone = xero.loc[
        xero["invoice_number"].isin(number_of[[numbered, fuzzy]]), "xero_invoice_id"
    ]
    links = links[~links["xero_id"].isin(gone)]
    xero.loc[xero["invoice_number"] == number_of[fuzzy], "invoice_number"] = "XERO-77"
    xero.loc[xero["invoice_number"] == number_of[numbered], "invoice_number"] = (
        " " + number_of[numbered].lower()
    )
    report = reconcile(*inputs.with_(xero_invoices=xero, links=links).args())
    method = report.invoices.set_index("perfex_id")["matched_by"]
    assert method[by_link] == "link"
    assert method[numbered] == "number"
    assert method[fuzzy] == "fuzzy"
    drafts = perfex.loc[perfex["status"] == "draft", "perfex_id"]
    assert (method[drafts] == "").all()
    assert not report.has_discrepancies


def test_link_wins_over_number() -> None:
    """A link pairs invoices even when their numbers differ."""
    inputs = clean_inputs(links=True)
    perfex_id = unpaid_without_payments(inputs)
    xero = inputs.xero_invoices.copy()
    number = inputs.perfex_invoices.set_index("perfex_id").at[
        perfex_id, "invoice_number"
    ]
    xero.loc[xero["invoice_number"] == number, "invoice_number"] = "RENAMED-1"
    report = reconcile(*inputs.with_(xero_invoices=xero).args())
    row = report.invoices.set_index("perfex_id").loc[perfex_id]
    assert row["matched_by"] == "link"
    assert row["xero_invoice_number"] == "RENAMED-1"
    assert not report.has_discrepancies


def test_date_window_keeps_rows_dated_inside() -> None:
    """Only rows dated (on either side) inside the window are reported."""
    inputs = clean_inputs()
    start, end = dt.date(2024, 3, 1), dt.date(2024, 8, 31)
    report = reconcile(*inputs.args(), date_from=start, date_to=end)
    dates = report.invoices["perfex_date"].fillna(report.invoices["xero_date"])
    assert len(report.invoices) > 0
    assert dates.between(pd.Timestamp(start), pd.Timestamp(end)).all()
    pdates = inputs.perfex_invoices["date"]
    assert (
        len(report.invoices)
        == pdates.between(pd.Timestamp(start), pd.Timestamp(end)).sum()
    )
    months = set(report.by_month["month"])
    assert months <= {f"2024-{m:02d}" for m in range(3, 9)}
    assert not report.has_discrepancies


def test_totals_side_by_side() -> None:
    """Posted totals per month, currency and customer agree on a clean run."""
    inputs = clean_inputs()
    report = reconcile(*inputs.args())
    for frame in (report.by_month, report.by_currency, report.by_customer):
        assert (frame["difference_cents"] == 0).all()
        assert (frame["perfex_count"] == frame["xero_count"]).all()
    posted = inputs.perfex_invoices["status"].isin(
        ["unpaid", "paid", "partially_paid", "overdue"]
    )
    total = inputs.perfex_invoices.loc[posted, "total_cents"].sum()
    assert report.by_currency["perfex_total_cents"].sum() == total
    assert report.by_month["xero_total_cents"].sum() == total


def test_totals_show_a_missing_invoice() -> None:
    """A missing Xero invoice shows as a difference in its month and currency."""
    inputs = clean_inputs()
    perfex_id = unpaid_without_payments(inputs)
    inv = inputs.perfex_invoices.set_index("perfex_id").loc[perfex_id]
    xero = inputs.xero_invoices
    xero = xero[xero["invoice_number"] != inv["invoice_number"]]
    report = reconcile(*inputs.with_(xero_invoices=xero, links=None).args())
    diff = report.by_month[report.by_month["difference_cents"] != 0]
    assert diff[["month", "currency", "difference_cents"]].values.tolist() == [
        [inv["date"].strftime("%Y-%m"), inv["currency"], inv["total_cents"]]
    ]
    assert flagged(report.invoices)["discrepancy"].tolist() == ["missing_in_xero"]


def test_empty_inputs() -> None:
    """Nothing on either side is a clean, empty report."""
    inputs = clean_inputs(n=0)
    report = reconcile(*inputs.args())
    assert report.invoices.empty and report.payments.empty
    assert not report.has_discrepancies


def test_text_codes_are_exact() -> None:
    """Equal strings share a code and different ones never do; missing is -1."""
    import numpy as np

    from pxflask.reconcile import _text

    long = "x" * 300
    left = pd.Series(["a", "bb", None, "a ", "", long, "bb", "A", long + "y"])
    right = pd.Series(["bb", "zz", "a", None, long, "é", "e"], dtype="str")
    expected, _ = pd.factorize(pd.concat([left, right], ignore_index=True))
    codes = np.concatenate(_text.factorize_text(left.astype("str"), right))
    assert ((codes == -1) == (expected == -1)).all()
    same = codes[:, None] == codes[None, :]
    assert (same == (expected[:, None] == expected[None, :])).all()
    found = _text.find_text(pd.Series(["bb", "a", None, "q"], dtype="str"), left)
    assert found.tolist() == [1, 0, -1, -1]
    taken = _text.take_text(right, np.array([4, -1, 0]))
    assert list(pd.Series(taken).fillna("?")) == [long, "?", "bb"]


def test_payment_found_through_a_perfex_payment_number() -> None:
    """A Xero payment with an unknown invoice id pairs through its invoice number."""
    inputs = clean_inputs(links=False)
    perfex, xero = inputs.perfex_payments.copy(), inputs.xero_payments.copy()
    first, second = perfex.index[:2]
    perfex.loc[[first, second], "invoice_number"] = ["OLD-1", "OLD-2"]
    xero.loc[xero.index[:2], "xero_invoice_id"] = "gone"
    xero.loc[xero.index[:2], "invoice_number"] = [" old-1", "OLD-2"]
    report = reconcile(*inputs.with_(perfex_payments=perfex, xero_payments=xero).args())
    rows = report.payments.set_index("perfex_payment_id")
    for pid in perfex.loc[[first, second], "perfex_payment_id"]:
        assert rows.at[pid, "matched_by"] == "amount_date"
    assert not report.has_discrepancies


def test_pairing_is_a_merge_on_key_and_rank() -> None:
    """Rows pair like a pandas merge on the keys and the rank within each key."""
    import numpy as np

    from pxflask.reconcile.match import _pair

    rng = np.random.default_rng(5)
    left = [rng.integers(0, 40, 500), rng.integers(0, 3, 500)]
    right = [rng.integers(0, 40, 450), rng.integers(0, 3, 450)]
    penalty = rng.random(450) < 0.2
    lf = pd.DataFrame({"a": left[0], "b": left[1]})
    rf = pd.DataFrame({"a": right[0], "b": right[1]}).iloc[
        np.argsort(penalty, kind="stable")
    ]
    lf["rank"] = lf.groupby(["a", "b"]).cumcount()
    rf["rank"] = rf.groupby(["a", "b"]).cumcount()
    merged = lf.reset_index(names="left").merge(
        rf.reset_index(names="right"), on=["a", "b", "rank"]
    )
    li, ri = _pair(left, right, penalty)
    assert sorted(zip(li.tolist(), ri.tolist(), strict=True)) == sorted(
        zip(merged["left"], merged["right"], strict=True)
    )
