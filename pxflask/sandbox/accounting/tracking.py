"""Tracking categories and their options, and the Tracking of document lines.

Xero's rules as modelled: at most MAX_ACTIVE active categories per organisation,
names of categories and options up to NAME_MAX characters and unique (ignoring
case) within their scope, at most MAX_OPTIONS active options per category. A line
names a category (TrackingCategoryID or Name) and one of its ACTIVE options
(TrackingOptionID or Option); anything else refuses the document, and the stored
line carries both ids and both names.
"""

from __future__ import annotations

from typing import Any

from .common import Ctx, Invalid, NotFound, Resource, new_id, text

MAX_ACTIVE = 2
MAX_OPTIONS = 100
NAME_MAX = 100
STATUSES = ("ACTIVE", "ARCHIVED")
TOO_MANY = (
    "You can only have 2 active tracking categories. Archive one before adding"
    " or restoring another."
)


def _name(raw: dict[str, Any], label: str) -> str:
    """A required name of at most NAME_MAX characters (trimmed)."""
    value = (text(raw, "Name", NAME_MAX, f"{label} name") or "").strip()
    if not value:
        raise Invalid(f"{label} name is required.")
    return value


def _active(items: Any) -> list[dict[str, Any]]:
    """The ACTIVE records among items."""
    return [r for r in items if r["Status"] == "ACTIVE"]


class TrackingCategories(Resource):
    """Tracking categories (one per PUT, as in Xero), each with its options."""

    name = "TrackingCategories"
    id_field = "TrackingCategoryID"
    error_flag = "HasValidationErrors"

    def _check_name(self, ctx: Ctx, name: str, own_id: str | None) -> None:
        """Category names are unique among the categories not deleted."""
        for other in self.table(ctx).values():
            if other["TrackingCategoryID"] == own_id or other["Status"] == "DELETED":
                continue
            if other["Name"].casefold() == name.casefold():
                raise Invalid(f"A tracking category named '{name}' already exists.")

    def _room(self, ctx: Ctx) -> None:
        """Refuse a third active category."""
        if len(_active(self.table(ctx).values())) >= MAX_ACTIVE:
            raise Invalid(TOO_MANY)

    def create(self, ctx: Ctx, raw: dict[str, Any]) -> dict[str, Any]:
        """A new ACTIVE category without options."""
        name = _name(raw, "Tracking category")
        self._check_name(ctx, name, None)
        self._room(ctx)
        record: dict[str, Any] = {
            "TrackingCategoryID": new_id(),
            "Name": name,
            "Status": "ACTIVE",
            "Options": [],
        }
        self.table(ctx)[record["TrackingCategoryID"]] = record
        return record

    def update(
        self, ctx: Ctx, record: dict[str, Any], raw: dict[str, Any]
    ) -> dict[str, Any]:
        """Rename, archive or restore a category."""
        if record["Status"] == "DELETED":
            raise Invalid("A deleted tracking category cannot be changed.")
        if "Name" in raw:
            name = _name(raw, "Tracking category")
            self._check_name(ctx, name, record["TrackingCategoryID"])
            record["Name"] = name
        status = raw.get("Status", record["Status"])
        if status not in STATUSES:
            raise Invalid("Status must be ACTIVE or ARCHIVED.")
        if status == "ACTIVE" and record["Status"] != "ACTIVE":
            self._room(ctx)
        record["Status"] = status
        return record

    def find_existing(
        self, ctx: Ctx, raw: dict[str, Any], method: str
    ) -> dict[str, Any] | None:
        """A PUT always creates (Xero's PUT /TrackingCategories)."""
        return None if method == "PUT" else super().find_existing(ctx, raw, method)

    def delete(self, ctx: Ctx, record: dict[str, Any]) -> dict[str, Any]:
        """Delete a category no document line uses; else archive it instead."""
        if _used(ctx, record["TrackingCategoryID"], None):
            raise Invalid(
                "This tracking category has been used on transactions; archive it"
                " instead."
            )
        record["Status"] = "DELETED"
        return record

    def add_options(
        self, ctx: Ctx, record: dict[str, Any], raws: list[Any]
    ) -> list[dict[str, Any]]:
        """New ACTIVE options (all or none): unique names, the active cap."""
        if record["Status"] == "DELETED":
            raise NotFound(record["TrackingCategoryID"])
        names: list[str] = []
        taken = {o["Name"].casefold() for o in record["Options"]}
        for raw in raws:
            if not isinstance(raw, dict):
                raise Invalid("Each tracking option must be an object.")
            name = _name(raw, "Tracking option")
            if name.casefold() in taken:
                raise Invalid(f"A tracking option named '{name}' already exists.")
            taken.add(name.casefold())
            names.append(name)
        if not names:
            raise Invalid("At least one tracking option is required.")
        if len(_active(record["Options"])) + len(names) > MAX_OPTIONS:
            raise Invalid(
                f"A tracking category can have at most {MAX_OPTIONS} active options."
            )
        made = [
            {"TrackingOptionID": new_id(), "Name": n, "Status": "ACTIVE"} for n in names
        ]
        record["Options"].extend(made)
        return made

    def change_option(
        self, ctx: Ctx, record: dict[str, Any], option_id: str, raw: dict[str, Any]
    ) -> dict[str, Any]:
        """Rename, archive or restore one option."""
        option = _option_by_id(record, option_id)
        if "Name" in raw:
            name = _name(raw, "Tracking option")
            if any(
                o["Name"].casefold() == name.casefold() and o is not option
                for o in record["Options"]
            ):
                raise Invalid(f"A tracking option named '{name}' already exists.")
            option["Name"] = name
        status = raw.get("Status", option["Status"])
        if status not in STATUSES:
            raise Invalid("Status must be ACTIVE or ARCHIVED.")
        if status == "ACTIVE" and option["Status"] != "ACTIVE":
            if len(_active(record["Options"])) >= MAX_OPTIONS:
                raise Invalid(
                    f"A tracking category can have at most {MAX_OPTIONS} active"
                    " options."
                )
        option["Status"] = status
        return option

    def delete_option(
        self, ctx: Ctx, record: dict[str, Any], option_id: str
    ) -> dict[str, Any]:
        """Remove an unused option (a used one can only be archived)."""
        option = _option_by_id(record, option_id)
        if _used(ctx, record["TrackingCategoryID"], option_id):
            raise Invalid(
                "This tracking option has been used on transactions; archive it"
                " instead."
            )
        record["Options"].remove(option)
        return {**option, "Status": "DELETED"}

    def visible(self, record: dict[str, Any], args: dict[str, str]) -> bool:
        """Deleted categories are gone; archived ones only with includeArchived."""
        if record["Status"] == "DELETED":
            return False
        archived = str(args.get("includeArchived", "")).lower() == "true"
        return archived or record["Status"] == "ACTIVE"

    def view(
        self, ctx: Ctx, record: dict[str, Any], archived: bool = True
    ) -> dict[str, Any]:
        """A category as Xero returns it (archived options only when asked)."""
        options = record["Options"] if archived else _active(record["Options"])
        return {
            "TrackingCategoryID": record["TrackingCategoryID"],
            "Name": record["Name"],
            "Status": record["Status"],
            "Options": [dict(o) for o in options],
        }


def _option_by_id(record: dict[str, Any], option_id: str) -> dict[str, Any]:
    """One option of a category by id (NotFound)."""
    for option in record["Options"]:
        if option["TrackingOptionID"].lower() == option_id.lower():
            return option
    raise NotFound(option_id)


def _used(ctx: Ctx, category_id: str, option_id: str | None) -> bool:
    """Whether a document line carries the category (or the option)."""
    for name in ("Invoices", "CreditNotes", "BankTransactions"):
        for doc in ctx.tenant.table(name).values():
            for line in doc.get("LineItems") or []:
                for t in line.get("Tracking") or []:
                    if t.get("TrackingCategoryID") != category_id:
                        continue
                    if option_id is None or t.get("TrackingOptionID") == option_id:
                        return True
    return False


def _find(items: list[dict[str, Any]], ident: Any, name: Any, id_key: str) -> Any:
    """The ACTIVE record named by id (first) or by name (ignoring case)."""
    for item in _active(items):
        if ident and str(item[id_key]).lower() == str(ident).lower():
            return item
        if not ident and name and item["Name"].casefold() == str(name).casefold():
            return item
    return None


def line_tracking(ctx: Ctx, raw: Any) -> list[dict[str, Any]] | None:
    """A line's Tracking checked against the organisation's categories."""
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise Invalid("Tracking must be a list of tracking categories.")
    if len(raw) > MAX_ACTIVE:
        raise Invalid(f"A line item can have at most {MAX_ACTIVE} tracking categories.")
    categories = list(ctx.tenant.table("TrackingCategories").values())
    out: list[dict[str, Any]] = []
    for entry in raw:
        if not isinstance(entry, dict):
            raise Invalid("Each tracking category on a line must be an object.")
        name = entry.get("Name")
        category = _find(
            categories, entry.get("TrackingCategoryID"), name, "TrackingCategoryID"
        )
        if category is None:
            raise Invalid(
                f"There is no ACTIVE tracking category with the name '{name}'"
            )
        wanted = entry.get("Option")
        option = _find(
            category["Options"],
            entry.get("TrackingOptionID"),
            wanted,
            "TrackingOptionID",
        )
        if option is None:
            raise Invalid(
                f"There is no ACTIVE tracking option '{wanted}' in the tracking"
                f" category '{category['Name']}'"
            )
        if any(t["TrackingCategoryID"] == category["TrackingCategoryID"] for t in out):
            raise Invalid(f"Tracking category '{category['Name']}' is given twice.")
        out.append(
            {
                "TrackingCategoryID": category["TrackingCategoryID"],
                "TrackingOptionID": option["TrackingOptionID"],
                "Name": category["Name"],
                "Option": option["Name"],
            }
        )
    return out
