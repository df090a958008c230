"""``in_values``: the month-end views' membership test on Arrow text."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pxflask.reconcile._text import STR_DTYPE, in_values


def test_in_values_matches_pandas_isin_and_leaves_missing_text_out():
    """Same mask as ``isin`` for a tuple and for a Series; missing text is never in."""
    values = pd.Series(["PAID", None, "DRAFT", "VOIDED", "AUTHORISED"], dtype=STR_DTYPE)
    allowed = ("DRAFT", "VOIDED", "DELETED")
    got = in_values(values, allowed)
    assert got.dtype == np.bool_
    assert got.tolist() == [False, False, True, True, False]
    ids = pd.Series(["b", "z", None], dtype=STR_DTYPE)
    assert in_values(ids, pd.Series(["a", "b", None], dtype=STR_DTYPE)).tolist() == [
        True,
        False,
        False,
    ]
    assert in_values(values[:0], allowed).tolist() == []
