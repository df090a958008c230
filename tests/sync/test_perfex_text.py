"""Text as Perfex stores it (through nl2br) arrives in Xero single-spaced."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pxflask.sync.entities.customers.mapper import map_contact
from pxflask.sync.mappers.common import strip_html
from pxflask.sync.mappers.documents import line_description

from .factories import address, customer, line


@pytest.mark.parametrize(
    ("stored", "plain"),
    [
        ("line one<br />\r\nline two", "line one\nline two"),
        ("line one<br />\nline two", "line one\nline two"),
        ("line one<br>\r\nline two<br />\r\n", "line one\nline two"),
        ("one<br />\r\n<br />\r\ntwo", "one\n\ntwo"),
        ("a<BR/>\rb", "a\nb"),
        ("plain\r\ntext", "plain\ntext"),
        (
            "Ground floor<br />\r\n 12 &amp; 14 Dock Road",
            "Ground floor\n12 & 14 Dock Road",
        ),
    ],
)
def test_nl2br_text_is_single_spaced(stored, plain):
    """`<br />` + its newline is one line break; a typed empty line stays one."""
    assert strip_html(stored) == plain


def test_long_description_keeps_perfex_line_breaks():
    """An item's long description stored by Perfex becomes lines without gaps."""
    stored = line(
        description="Consulting",
        long_description="Workshop day 1<br />\r\nWorkshop day 2<br />\r\nReport",
    )
    assert line_description(stored) == (
        "Consulting\nWorkshop day 1\nWorkshop day 2\nReport"
    )


def test_street_address_lines_come_from_nl2br_breaks():
    """Each nl2br'd street line becomes one AddressLine, none empty."""
    who = replace(
        customer(),
        billing=address("Unit 5<br />\r\nHarbour Park<br />\r\nDock Road", "Leeds"),
    )
    payload = map_contact(who).payload
    assert payload is not None
    billing = next(a for a in payload["Addresses"] if a["AddressType"] == "POBOX")
    assert (
        billing["AddressLine1"],
        billing["AddressLine2"],
        billing["AddressLine3"],
    ) == ("Unit 5", "Harbour Park", "Dock Road")
    assert "AddressLine4" not in billing
