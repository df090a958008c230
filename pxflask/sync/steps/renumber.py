"""Reused numbers: a document Xero refuses because a dead one holds its number.

Perfex gives the number of a deleted last invoice to the next one (installer
options `delete_only_on_last_invoice` and `invoice_number_decrement_on_delete`);
Xero keeps the numbers of VOIDED and DELETED invoices unique ("Invoice # must be
unique."), so the new invoice could never be created under its own number. It is
sent as `<number>-2` instead (then `-3` ... up to `-MAX_SUFFIX` when those are
taken too), found with one batched look-up of the candidate numbers. The number
used is stored on the link (`xero_number`), kept on every later update, and the
log says why ("sent as INV-000008-2: INV-000008 is held by a voided invoice in
Xero"). A candidate already holding this record's own Reference (a crash after
Xero took it) is linked instead of created again. A live holder is never
worked around: that record fails with the reason (a possible duplicate).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from pxflask.sync.context import StepContext
from pxflask.sync.hashing import payload_hash
from pxflask.sync.links import PULLED_FROM_XERO, Action, Decision, LinkStore
from pxflask.sync.mappers.common import Mapped
from pxflask.sync.steps.base import Pending, lookup

DEAD = ("VOIDED", "DELETED")
"""Statuses of Xero documents whose numbers stay taken."""
MAX_SUFFIX = 9


@dataclass(frozen=True)
class Numbered:
    """How one document kind carries its number and its Perfex marker."""

    kind: str
    """Gateway read kind: 'invoices', 'credit-notes'."""
    field: str
    """The number field: InvoiceNumber, CreditNoteNumber."""
    id_field: str
    label: str
    """What a person calls it: 'invoice'."""
    reference: Callable[[str], str]
    """Perfex key -> the Reference that marks this record (PX-I-<id>)."""


def suffixed(number: str, sent: str | None) -> bool:
    """True when `sent` is `number` with a reuse suffix (-2 ... -MAX_SUFFIX)."""
    if not sent or not number:
        return False
    found = re.fullmatch(re.escape(number) + r"-(\d+)", sent)
    return found is not None and 2 <= int(found.group(1)) <= MAX_SUFFIX


def keep_sent_numbers(
    store: LinkStore, mapped: Iterable[Mapped], field: str
) -> list[Mapped]:
    """Records sent under a suffixed number keep it (no rename on later updates).

    A document made in Xero and pulled into Perfex keeps Xero's number too.
    """
    out: list[Mapped] = []
    for m in mapped:
        link = store.get(m.key)
        number = str((m.payload or {}).get(field) or "")
        if m.payload is not None and link is not None:
            sent = link.xero_number
            pulled = link.idempotency_key == PULLED_FROM_XERO
            if sent and sent != number and (pulled or suffixed(number, sent)):
                m = replace(m, payload={**m.payload, field: sent})
        out.append(m)
    return out


def resend(
    ctx: StepContext,
    held: list[tuple[Pending, dict[str, Any]]],
    spec: Numbered,
) -> tuple[list[Pending], list[Pending], list[Pending]]:
    """Renumber creates held by dead documents: (creates, linked, failed)."""
    candidates = {
        p.key: [f"{p.payload[spec.field]}-{n}" for n in range(2, MAX_SUFFIX + 1)]
        for p, _ in held
    }
    found = lookup(
        ctx, spec.kind, spec.field, [c for cs in candidates.values() for c in cs]
    )
    creates: list[Pending] = []
    linked: list[Pending] = []
    failed: list[Pending] = []
    taken: set[str] = set()
    for p, holder in held:
        number = str(p.payload[spec.field])
        status = str(holder.get("Status") or "").lower()
        own = spec.reference(p.key)
        choice, record = None, None
        for candidate in candidates[p.key]:
            record = found.get(candidate)
            if candidate in taken:
                continue
            if record is None or record.get("Reference") == own:
                choice = candidate
                break
        if choice is None:
            p.mapped = replace(
                p.mapped,
                skip=f"{spec.label} number {number} is held by a {status}"
                f" {spec.label} in Xero and so are {number}-2 to {number}-"
                f"{MAX_SUFFIX}: renumber the {spec.label} in Perfex, then retry",
            )
            failed.append(p)
            continue
        taken.add(choice)
        note = f"sent as {choice}: {number} is held by a {status} {spec.label} in Xero"
        payload = {**p.payload, spec.field: choice}
        p.mapped = replace(
            p.mapped, payload=payload, skip=None, notes=(*p.mapped.notes, note)
        )
        p.hash = payload_hash(payload)
        if record is not None:
            p.xero_id = str(record[spec.id_field])
            p.decision = Decision(p.key, Action.UPDATE, p.decision.link)
            linked.append(p)
        else:
            creates.append(p)
    return creates, linked, failed


def live_holder_reason(spec: Numbered, number: str, holder: dict[str, Any]) -> str:
    """Why a record whose number a live Xero document holds is not sent."""
    status = holder.get("Status") or "unknown status"
    contact = (holder.get("Contact") or {}).get("Name") or "another contact"
    ref = holder.get("Reference")
    marked = f", Reference {ref}" if ref else ""
    return (
        f"{spec.label} number {number} is already used in Xero by another"
        f" {spec.label} ({status}, {contact}{marked}), possibly a duplicate: if it"
        " is this one, link it with Re-link on the reset page; otherwise change the"
        " number of one of the two, then retry"
    )
