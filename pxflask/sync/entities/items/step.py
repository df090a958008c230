"""Items: tblitems -> Xero Items (Code <= 30), recovered by Code."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from pxflask.perfex import reads
from pxflask.sync.context import StepContext, StepReport
from pxflask.sync.entities.items.mapper import item_names, map_item
from pxflask.sync.links import Action, Decision
from pxflask.sync.mappers.common import Mapped
from pxflask.sync.steps.base import Pusher, lookup
from pxflask.sync.steps.services import services

if TYPE_CHECKING:
    from pxflask.sync.steps.services import TaxResolver

ENTITY = "items"


def run(ctx: StepContext) -> StepReport:
    """Create or update a Xero item per Perfex catalogue item."""
    pusher = Pusher(ctx, ENTITY, "items", "ItemID")
    items = reads.read_items(ctx.perfex)
    names = item_names(items)  # a name depends on the other items: read them all
    keys = ctx.keys_of(ENTITY)
    if keys is not None:
        items = [item for item in items if str(item.id) in keys]
    perfex_taxes = {t.id: t for t in reads.read_taxes(ctx.perfex)}
    resolve = services(ctx).taxes()
    pusher.plan(
        _without_unresolved(
            map_item(
                item,
                name=names[item.id],
                sales_account=ctx.settings.sales_account,
                taxes=perfex_taxes,
                resolve_tax=resolve,
                no_tax_type=resolve.no_tax_type(),
            ),
            resolve,
        )
        for item in items
    )
    resolve.flush()
    if pusher.creates and not ctx.dry_run:
        codes = [p.payload["Code"] for p in pusher.creates]
        found = lookup(ctx, "items", "Code", codes) if len(codes) < 200 else {}
        if len(codes) >= 200:
            found = {str(i.get("Code")): i for i in ctx.gateway.read_all("items")}
        for p in list(pusher.creates):
            record = found.get(p.payload["Code"])
            if record:
                pusher.creates.remove(p)
                p.xero_id = str(record["ItemID"])
                p.decision = Decision(p.key, Action.UPDATE, p.decision.link)
                pusher.updates.append(p)
    failed = pusher.write_creates() + pusher.write_updates()
    return pusher.finish(failed)


def _without_unresolved(m: Mapped, resolve: TaxResolver) -> Mapped:
    """An item whose tax has no Xero rate yet is sent without a default TaxType."""
    details = (m.payload or {}).get("SalesDetails") or {}
    reason = resolve.problems.get(str(details.get("TaxType")))
    if reason is None:
        return m
    del details["TaxType"]
    return replace(m, notes=(*m.notes, f"sent without a tax rate: {reason}"))
