"""Xero webhooks: record each event in the log, pull what changed, mark voids.

Called by the webhook job (pxflask/jobs/tasks.py) with the verified events; the
gateway is built only when an event names one of our records' kinds. With
`contacts_from_xero` on, the answer names the linked customers whose contacts
changed (`customers`): the job queues a targeted customers run for them, whose
pull brings the changes into Perfex (entities/customers/pull.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select

from pxflask.dbtypes import SessionLike
from pxflask.models import Link, SyncLog, XeroConnection

from .entities import documents_pull
from .entities.customers.pull_rules import enabled as contacts_pull_enabled
from .failures import describe
from .links import DELETED, VOIDED
from .registry import REGISTRY
from .settings import load_settings

log = logging.getLogger(__name__)

XERO_CATEGORIES = REGISTRY.webhook_categories()
"""Webhook category -> (entity of our links, gateway read kind), from the registry."""


def handle_webhook(
    session: SessionLike, events: list[dict[str, Any]], gateway: Callable[[], Any]
) -> dict[str, Any]:
    """Record Xero webhook events and pull the changed invoices and contacts.

    With `documents_from_xero` on, an INVOICE or CREDITNOTE event about a document
    no link names sets "documents": the job then queues a pass of that entity.
    """
    connection = session.scalar(select(XeroConnection).limit(1))
    tenant = connection.tenant_id if connection is not None else None
    wanted: dict[str, set[str]] = {}
    pull_documents = _documents_on(session)
    documents = False
    for event in events:
        category = str(event.get("eventCategory", "")).upper()
        resource = str(event.get("resourceId", ""))
        entity, kind = XERO_CATEGORIES.get(category, ("xero", ""))
        foreign = tenant is not None and event.get("tenantId") not in (None, tenant)
        link = _link_by_xero_id(session, entity, resource)
        if (
            pull_documents
            and category in documents_pull.WEBHOOK_CATEGORIES
            and not foreign
            and link is None
        ):
            documents = True
            if not kind:
                entity, kind = documents_pull.ENTITY, "documents"
        session.add(
            SyncLog(
                entity=entity,
                perfex_key=link.perfex_key if link else None,
                xero_id=resource or None,
                action="webhook",
                outcome="ignored" if foreign or not kind else "received",
                message=(
                    f"Xero {category} {event.get('eventType', '')} at "
                    f"{event.get('eventDateUtc', '?')}"
                    + (" (another organisation)" if foreign else "")
                ),
                payload=json.dumps(event, sort_keys=True),
            )
        )
        if kind and kind != "documents" and resource and not foreign:
            wanted.setdefault(kind, set()).add(resource)
    session.commit()
    pulled = 0
    changed: list[str] = []
    if wanted:
        try:
            pulled = _pull_changed(session, gateway(), wanted, changed)
        except Exception as exc:
            session.rollback()
            session.add(
                SyncLog(
                    entity="xero",
                    action="inbound",
                    outcome="failed",
                    message=f"{type(exc).__name__}: {describe(exc)}",
                )
            )
            session.commit()
            log.error("pulling Xero changes failed", exc_info=exc)
            raise
    if changed and not contacts_pull_enabled(load_settings(session)):
        changed = []
    return {
        "events": len(events),
        "pulled": pulled,
        "customers": sorted(changed),
        "documents": documents,
    }


def _documents_on(session: SessionLike) -> bool:
    """True when documents made in Xero are pulled (documents_from_xero)."""
    return documents_pull.SWITCH.is_on(load_settings(session))


def _pull_changed(
    session: SessionLike, gateway: Any, wanted: dict[str, set[str]], changed: list[str]
) -> int:
    """Read the changed invoices and contacts from Xero and log what they say.

    `changed` gets the Perfex keys of the linked customers among the contacts.
    """
    pulled = 0
    for kind, ids in wanted.items():
        entity = "invoices" if kind == "invoices" else "customers"
        for record in gateway.read_all(kind, ids=sorted(ids)):
            pulled += 1
            xero_id = record.get("InvoiceID") or record.get("ContactID")
            link = _link_by_xero_id(session, entity, str(xero_id))
            status = record.get("Status") or record.get("ContactStatus") or ""
            if link is not None and status in ("VOIDED", "DELETED", "ARCHIVED"):
                link.state = VOIDED if status == "VOIDED" else DELETED
            if link is not None and entity == "customers":
                changed.append(link.perfex_key)
            session.add(
                SyncLog(
                    entity=entity,
                    perfex_key=link.perfex_key if link else None,
                    xero_id=str(xero_id),
                    action="inbound",
                    outcome="ok",
                    message=_inbound_summary(kind, record),
                    response=json.dumps(record, sort_keys=True, default=str)[:60000],
                )
            )
    session.commit()
    return pulled


def _link_by_xero_id(session: SessionLike, entity: str, xero_id: str) -> Link | None:
    """The link of a Xero id, if the record is one of ours."""
    if not xero_id:
        return None
    return session.scalar(
        select(Link).where(Link.entity == entity, Link.xero_id == xero_id).limit(1)
    )


def _inbound_summary(kind: str, record: Mapping[str, Any]) -> str:
    """One line about a record pulled from Xero."""
    if kind == "invoices":
        return (
            f"Xero invoice {record.get('InvoiceNumber', '?')}: "
            f"{record.get('Status', '?')}, due {record.get('AmountDue', '?')} "
            f"of {record.get('Total', '?')}"
        )
    return f"Xero contact {record.get('Name', '?')}: {record.get('ContactStatus', '?')}"
