"""Where each reconciled record was made: the rows' ``origin`` column (no Flask).

``xero``: the Perfex record was made in Xero and brought into Perfex by a pull (its
push-side link carries ``PULLED_FROM_XERO``), or the row is only in Xero and no
Perfex record was ever linked to it.  ``perfex``: every other row (made in Perfex,
pushed or not; a Xero-only row whose Xero record a push link names, i.e. made in
Perfex and gone from it since).  The links are read once per scope, by the loaders
that already read them (``loaders.load_links``, ``linked_ids``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from pxflask.dbtypes import SessionLike
from pxflask.models import Link
from pxflask.reconcile._text import text_array
from pxflask.sync.links import PULLED_FROM_XERO

__all__ = [
    "FROM_PERFEX",
    "FROM_XERO",
    "ORIGIN",
    "ORIGINS",
    "Linked",
    "linked_ids",
    "frame_origin",
    "origin_column",
    "origin_of",
]

ORIGIN = "origin"
FROM_PERFEX = "perfex"
FROM_XERO = "xero"
ORIGINS = (FROM_PERFEX, FROM_XERO)
"""The values of ``origin``, in the order of its categories."""


class Linked(dict[int, str]):
    """Perfex id -> linked Xero id (lower case) of one entity, and the pulled ids."""

    def __init__(
        self, items: Iterable[tuple[int, str]] = (), pulled: Iterable[int] = ()
    ) -> None:
        """The links with a Xero id, and the Perfex ids whose link has the mark."""
        super().__init__(items)
        self.pulled: frozenset[int] = frozenset(pulled)


def linked_ids(session: SessionLike, entity: str) -> Linked:
    """One entity's sync links in one query: Perfex id -> Xero id, and pulled ids.

    ``pulled`` also holds the marked links without a Xero id (an expense pulled
    from a Xero bill, which no SPEND transaction matches).
    """
    stmt = sa.select(Link.perfex_key, Link.xero_id, Link.idempotency_key).where(
        Link.entity == entity,
        sa.or_(Link.xero_id.is_not(None), Link.idempotency_key == PULLED_FROM_XERO),
    )
    items: list[tuple[int, str]] = []
    pulled: list[int] = []
    for key, xero_id, mark in session.execute(stmt):
        if not key or not str(key).isdigit():
            continue
        if xero_id:
            items.append((int(key), str(xero_id).lower()))
        if mark == PULLED_FROM_XERO:
            pulled.append(int(key))
    return Linked(items, pulled)


def origin_of(
    perfex_ids: pd.Series,
    xero_ids: pd.Series,
    pulled: Collection[int],
    pushed: Callable[[list[str]], set[str]],
    marked: np.ndarray | None = None,
) -> pd.Categorical:
    """Each row's origin from its Perfex id and Xero id (both nullable).

    ``pushed(ids)``: those of the (few) Xero-only rows' ids that a push link names.
    ``marked``: rows whose Xero record carries the push's own marker (a Reference
    or line text naming a Perfex id).
    """
    has_p = perfex_ids.notna().to_numpy(bool)
    from_xero = np.zeros(len(perfex_ids), bool)
    if len(pulled):
        ids = np.fromiter(pulled, np.int64, len(pulled))
        from_xero = perfex_ids.isin(ids).to_numpy(bool, na_value=False)
    only_x = ~has_p
    if marked is not None:
        only_x &= ~marked
    at = np.flatnonzero(only_x)
    if len(at):
        texts = [x if isinstance(x, str) else "" for x in xero_ids.iloc[at].tolist()]
        ours = pushed(texts)
        only_x[at[np.asarray([x in ours for x in texts], bool)]] = False
    codes = (from_xero & has_p) | only_x
    return pd.Categorical.from_codes(codes.astype(np.int8), categories=list(ORIGINS))


def origin_column(
    perfex_ids: pd.Series,
    xero_ids: pd.Series,
    links: Mapping[int, str],
    marker_ids: pd.Series | None = None,
) -> pd.Categorical:
    """The origin of rows matched with ``links`` (a plain mapping: nothing pulled).

    ``marker_ids``: the Perfex id each Xero record's push marker names (nullable).
    """
    pulled: frozenset[int] = getattr(links, "pulled", frozenset())
    marked = None if marker_ids is None else marker_ids.notna().to_numpy(bool)

    def pushed(ids: list[str]) -> set[str]:
        """Those of ``ids`` (any case) that a link not marked as pulled names."""
        wanted = {x.lower(): x for x in ids}
        return {wanted[x] for k, x in links.items() if k not in pulled and x in wanted}

    return origin_of(perfex_ids, xero_ids, pulled, pushed, marked)


def frame_origin(
    perfex_ids: pd.Series,
    xero_ids: pd.Series,
    links: pd.DataFrame | None,
    entity: str,
    marked: np.ndarray | None = None,
) -> pd.Categorical:
    """The origin of invoice or payment rows from a ``LINKS`` frame (``pulled``)."""
    if links is None or links.empty:
        return origin_of(perfex_ids, xero_ids, (), lambda _ids: set(), marked)
    mine = (links["entity"] == entity).to_numpy(bool)
    flags = (
        links["pulled"].to_numpy(bool)
        if "pulled" in links.columns
        else np.zeros(len(links), bool)
    )
    pulled = links["perfex_id"].to_numpy(np.int64)[mine & flags]

    def pushed(ids: list[str]) -> set[str]:
        """Those of ``ids`` that this entity's links not marked as pulled name."""
        values = text_array(links["xero_id"]).filter(pa.array(mine & ~flags))
        hit = pc.is_in(values, value_set=pa.array(ids, pa.large_string()))
        return set(values.filter(hit).to_pylist())

    return origin_of(perfex_ids, xero_ids, pulled.tolist(), pushed, marked)
