"""Items: Code ≤ 30 and unique, Name ≤ 50, sales/purchase details."""

from __future__ import annotations

from typing import Any

from ..serialize import quantize
from .common import Ctx, Invalid, Resource, find_account, new_id, opt_decimal, text


def _code(record: dict[str, Any]) -> str | None:
    """Index key: the item Code, case-folded."""
    code = record.get("Code")
    return code.casefold() if isinstance(code, str) else None


class Items(Resource):
    """The Items collection."""

    name = "Items"
    batched = True
    id_field = "ItemID"
    error_flag = "HasValidationErrors"

    def by_code(self, ctx: Ctx, code: str) -> dict[str, Any] | None:
        """An item by Code (case-insensitive like Xero)."""
        return self.table(ctx).find("code", _code, code.casefold())

    def find_existing(
        self, ctx: Ctx, raw: dict[str, Any], method: str
    ) -> dict[str, Any] | None:
        """By ItemID, or (POST) by Code."""
        found = super().find_existing(ctx, raw, method)
        if found is None and method == "POST" and isinstance(raw.get("Code"), str):
            found = self.by_code(ctx, raw["Code"])
        return found

    def _details(self, ctx: Ctx, raw: Any, label: str) -> dict[str, Any] | None:
        """Validate SalesDetails/PurchaseDetails."""
        if raw is None:
            return None
        if not isinstance(raw, dict):
            raise Invalid(f"{label} must be an object")
        out: dict[str, Any] = {}
        price = opt_decimal(raw, "UnitPrice")
        if price is not None:
            out["UnitPrice"] = quantize(price, 4 if ctx.unitdp >= 4 else 2)
        code = raw.get("AccountCode")
        if code:
            if find_account(ctx, None, code) is None:
                raise Invalid(f"Account code '{code}' is not a valid code.")
            out["AccountCode"] = code
        if raw.get("TaxType"):
            out["TaxType"] = raw["TaxType"]
        return out

    def _apply(self, ctx: Ctx, record: dict[str, Any], raw: dict[str, Any]) -> None:
        """Validate and copy fields."""
        code = text(raw, "Code", 30, "Price List Item Code")
        name = text(raw, "Name", 50, "Price List Item Name")
        text(raw, "Description", 4000, "Description")
        text(raw, "PurchaseDescription", 4000, "Purchase Description")
        if code is not None:
            if not code.strip():
                raise Invalid("Price List Item Code must be specified.")
            other = self.by_code(ctx, code)
            if other is not None and other["ItemID"] != record.get("ItemID"):
                raise Invalid(f"Item code '{code}' already exists.")
        sales = self._details(ctx, raw.get("SalesDetails"), "SalesDetails")
        purchase = self._details(ctx, raw.get("PurchaseDetails"), "PurchaseDetails")
        if code is not None:
            record["Code"] = code
        if name is not None:
            record["Name"] = name
        for key in ("Description", "PurchaseDescription", "IsSold", "IsPurchased"):
            if key in raw:
                record[key] = raw[key]
        if sales is not None:
            record["SalesDetails"] = sales
            record.setdefault("IsSold", True)
        if purchase is not None:
            record["PurchaseDetails"] = purchase
            record.setdefault("IsPurchased", True)
        record["UpdatedDateUTC"] = ctx.stamp()

    def create(self, ctx: Ctx, raw: dict[str, Any]) -> dict[str, Any]:
        """A new item; Code is required."""
        if not raw.get("Code"):
            raise Invalid("Price List Item Code must be specified.")
        record: dict[str, Any] = {"ItemID": new_id(), "IsTrackedAsInventory": False}
        self._apply(ctx, record, raw)
        record.setdefault("Name", record["Code"])
        self.table(ctx)[record["ItemID"]] = record
        return record

    def update(
        self, ctx: Ctx, record: dict[str, Any], raw: dict[str, Any]
    ) -> dict[str, Any]:
        """Change an item."""
        self._apply(ctx, record, raw)
        self.table(ctx).reindex(record["ItemID"])
        return record

    def view(self, ctx: Ctx, record: dict[str, Any]) -> dict[str, Any]:
        """An item as Xero returns it."""
        out: dict[str, Any] = {
            "ItemID": record["ItemID"],
            "Code": record["Code"],
            "Name": record.get("Name"),
            "Description": record.get("Description"),
            "PurchaseDescription": record.get("PurchaseDescription"),
            "IsSold": bool(record.get("IsSold")),
            "IsPurchased": bool(record.get("IsPurchased")),
            "IsTrackedAsInventory": False,
            "UpdatedDateUTC": record["UpdatedDateUTC"],
        }
        places = 4 if ctx.unitdp >= 4 else 2
        for key in ("SalesDetails", "PurchaseDetails"):
            details = dict(record.get(key) or {})
            if "UnitPrice" in details:
                details["UnitPrice"] = quantize(details["UnitPrice"], places)
            out[key] = details
        return {k: v for k, v in out.items() if v is not None}
