"""Line items of documents: account, item and tax checks, then Xero totals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..serialize import quantize
from ..totals import LINE_AMOUNT_TYPES, LineError, Totals, compute_document
from .common import Ctx, Invalid, find_account, find_tax_rate
from .items import Items
from .tracking import line_tracking

NOT_ON_LINES = ("DEBTORS", "CREDITORS", "GST")
SALES_TYPES = ("ACCREC", "ACCRECCREDIT", "RECEIVE", "QUOTE")


def _prepare(ctx: Ctx, raw: Any, doc_type: str, strict: bool) -> dict[str, Any]:
    """Validate one raw line and fill defaults from its item and account."""
    if not isinstance(raw, dict):
        raise Invalid("Line items must be objects")
    line = dict(raw)
    sales = doc_type in SALES_TYPES
    if line.get("ItemCode"):
        item = Items().by_code(ctx, line["ItemCode"])
        if item is None:
            raise Invalid(f"Item code '{line['ItemCode']}' is not valid.")
        details = item.get("SalesDetails" if sales else "PurchaseDetails") or {}
        line.setdefault("Description", item.get("Description") or item.get("Name"))
        if line.get("UnitAmount") is None and details.get("UnitPrice") is not None:
            line["UnitAmount"] = details["UnitPrice"]
        line.setdefault("AccountCode", details.get("AccountCode"))
        line.setdefault("TaxType", details.get("TaxType"))
    account = None
    if line.get("AccountID") or line.get("AccountCode"):
        account = find_account(
            ctx, {"AccountID": line.get("AccountID"), "Code": line.get("AccountCode")}
        )
        if (
            account is None
            or account["Status"] != "ACTIVE"
            or account["Type"] == "BANK"
            or account.get("SystemAccount") in NOT_ON_LINES
        ):
            code = line.get("AccountCode") or line.get("AccountID")
            raise Invalid(
                f"Account code '{code}' is not a valid code for this document."
            )
        line["AccountCode"] = account["Code"]
        line["AccountID"] = account["AccountID"]
    elif strict:
        raise Invalid("Account code must be specified for each line item.")
    tax_type = line.get("TaxType") or (account or {}).get("TaxType") or "NONE"
    rate = find_tax_rate(ctx, tax_type)
    applies = "CanApplyToRevenue" if sales else "CanApplyToExpenses"
    if rate is None or not rate.get(applies):
        raise Invalid(
            f"The TaxType code '{tax_type}' does not exist or cannot be used with "
            "this type of transaction."
        )
    if account is not None:
        klass = account.get("Class")
        by_class: dict[str | None, bool] = {
            "REVENUE": rate["CanApplyToRevenue"],
            "EXPENSE": rate["CanApplyToExpenses"],
        }
        allowed = by_class.get(klass, True)
        if not allowed:
            raise Invalid(
                f"The TaxType code '{tax_type}' cannot be used with account code "
                f"'{account['Code']}'."
            )
    line["TaxType"] = tax_type
    tracking = line_tracking(ctx, line.get("Tracking"))
    if tracking is not None:
        line["Tracking"] = tracking
    line["_rate"] = rate["EffectiveRate"]
    return line


def build_lines(
    ctx: Ctx,
    raw_lines: Any,
    doc_type: str,
    line_amount_types: str,
    strict: bool,
) -> tuple[list[dict[str, Any]], Totals]:
    """Validated, computed lines and totals for a document."""
    if line_amount_types not in LINE_AMOUNT_TYPES:
        raise Invalid(f"LineAmountTypes '{line_amount_types}' is not valid.")
    if raw_lines is None:
        raw_lines = []
    if not isinstance(raw_lines, list):
        raise Invalid("LineItems must be a list")
    prepared = [_prepare(ctx, raw, doc_type, strict) for raw in raw_lines]
    try:
        lines, totals = compute_document(
            prepared, line_amount_types, lambda line: line["_rate"], ctx.unitdp
        )
    except LineError as exc:
        raise Invalid(str(exc)) from exc
    return lines, totals


def line_views(lines: list[dict[str, Any]], unitdp: int) -> list[dict[str, Any]]:
    """Lines as Xero returns them."""
    places = 4 if unitdp >= 4 else 2
    out = []
    for line in lines:
        view = {
            k: v for k, v in line.items() if not k.startswith("_") and v is not None
        }
        view["UnitAmount"] = quantize(line["UnitAmount"], places)
        view["Quantity"] = quantize(line["Quantity"], 4)
        out.append(view)
    return out


def stored_lines_as_raw(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored lines in input form (for recomputation on update).

    A TaxAmount that was sent (overridden) stays on its line; one Xero computed
    is computed again.
    """
    keep = (
        "LineItemID",
        "Description",
        "Quantity",
        "UnitAmount",
        "ItemCode",
        "AccountCode",
        "TaxType",
        "DiscountRate",
        "DiscountAmount",
        "Tracking",
    )
    raws = []
    for line in lines:
        raw = {k: line.get(k) for k in keep if line.get(k) is not None}
        if line.get("_tax_given"):
            raw["TaxAmount"] = line["TaxAmount"]
        raws.append(raw)
    return raws


ZERO = Decimal("0.00")
