"""The hash the push side compares for a record written from Xero.

Stored on the push side's link, it makes the next push find the record unchanged
(no write to Xero); a later edit in Perfex changes it, and the record then follows
the push side's normal update rules.
"""

from __future__ import annotations

from pxflask.perfex import reads
from pxflask.sync.context import StepContext
from pxflask.sync.entities.credit_notes.mapper import map_credit_note
from pxflask.sync.entities.customers.mapper import map_contact
from pxflask.sync.entities.invoices.mapper import (
    InvoiceContext,
    map_invoice,
    neutral_invoice_context,
)
from pxflask.sync.hashing import payload_hash
from pxflask.sync.history import neutral_tax
from pxflask.sync.links import LinkStore


def _neutral(drafts: str) -> InvoiceContext:
    """The push side's neutral mapping context (every mapping by its own name)."""
    return neutral_invoice_context(
        InvoiceContext(
            sales_account="",
            rounding_account="",
            resolve_tax=neutral_tax,
            drafts=drafts,
        )
    )


def _contact(ctx: StepContext, customer_id: int) -> str:
    """The Xero ContactID linked to a Perfex customer (as the push side reads it)."""
    link = LinkStore(ctx.session, "customers", keys=[customer_id]).get(customer_id)
    return str(link.xero_id) if link is not None and link.xero_id else ""


def push_hash(ctx: StepContext, entity: str, perfex_id: int) -> str | None:
    """The content hash the push step of `entity` compares for one Perfex record."""
    if entity == "customers":
        currencies = {c.id: c.code for c in reads.read_currencies(ctx.perfex)}
        found = reads.read_customers(ctx.perfex, ids=[perfex_id])
        m = map_contact(found[0], currencies) if found else None
    elif entity == "invoices":
        invoices = reads.read_invoices(ctx.perfex, ids=[perfex_id])
        m = (
            map_invoice(
                invoices[0],
                _contact(ctx, invoices[0].customer_id),
                _neutral(ctx.settings.drafts),
            )
            if invoices
            else None
        )
    else:
        notes = reads.read_credit_notes(ctx.perfex, ids=[perfex_id])
        m = (
            map_credit_note(
                notes[0], _contact(ctx, notes[0].customer_id), _neutral("skip")
            )
            if notes
            else None
        )
    if m is None or m.payload is None:
        return None
    return payload_hash(m.payload)
