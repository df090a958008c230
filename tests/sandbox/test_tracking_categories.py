"""TrackingCategories in the sandbox: Xero's limits, options, and tracked lines."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import raw_call

CATS = "/TrackingCategories"


def _call(sandbox: Any, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """Status and JSON body of one call."""
    r = raw_call(sandbox, method, path, body)
    return r.status, json.loads(r.data or b"null")


def _messages(body: dict[str, Any]) -> list[str]:
    """The ValidationErrors of a refused element."""
    return [v["Message"] for e in body["Elements"] for v in e["ValidationErrors"]]


def _category(sandbox: Any, name: str) -> dict[str, Any]:
    """Create a category; its record."""
    status, body = _call(sandbox, "PUT", CATS, {"Name": name})
    assert status == 200, body
    return body["TrackingCategories"][0]


def _line(account: str, tracking: list[dict[str, Any]]) -> dict[str, Any]:
    """A sales line with Tracking."""
    return {
        "Description": "Work",
        "Quantity": 1,
        "UnitAmount": 100,
        "AccountCode": account,
        "Tracking": tracking,
    }


def _invoice(sandbox: Any, tracking: list[dict[str, Any]]) -> tuple[int, Any]:
    """PUT one ACCREC invoice whose line carries tracking."""
    found = [c for c in sandbox.inject.all("Contacts") if c["Name"] == "Tracked Ltd"]
    contact = found[0] if found else sandbox.inject.contact("Tracked Ltd")
    body = {
        "Invoices": [
            {
                "Type": "ACCREC",
                "Contact": {"ContactID": contact["ContactID"]},
                "Date": "2025-06-01",
                "DueDate": "2025-06-30",
                "LineAmountTypes": "NoTax",
                "LineItems": [_line("200", tracking)],
            }
        ]
    }
    return _call(sandbox, "PUT", "/Invoices", body)


def test_two_active_categories_and_archive(xero_sandbox):
    """A third active category is refused; archiving one makes room."""
    first = _category(xero_sandbox, "Region")
    _category(xero_sandbox, "Department")
    status, body = _call(xero_sandbox, "PUT", CATS, {"Name": "Project"})
    assert status == 400
    assert "2 active tracking categories" in _messages(body)[0]
    status, body = _call(xero_sandbox, "PUT", CATS, {"Name": "region"})
    assert status == 400 and "already exists" in _messages(body)[0]
    one = f"{CATS}/{first['TrackingCategoryID']}"
    status, _ = _call(xero_sandbox, "POST", one, {"Status": "ARCHIVED"})
    assert status == 200
    _category(xero_sandbox, "Project")
    status, body = _call(xero_sandbox, "GET", CATS)
    assert sorted(c["Name"] for c in body["TrackingCategories"]) == [
        "Department",
        "Project",
    ]
    status, body = _call(xero_sandbox, "GET", CATS + "?includeArchived=true")
    assert len(body["TrackingCategories"]) == 3
    status, body = _call(xero_sandbox, "POST", one, {"Status": "ACTIVE"})
    assert status == 400 and "2 active tracking categories" in _messages(body)[0]


def test_options_in_one_put_and_their_rules(xero_sandbox):
    """Several options per PUT; unique names; archived options hidden by default."""
    cat = _category(xero_sandbox, "Project")
    path = f"{CATS}/{cat['TrackingCategoryID']}/Options"
    status, body = _call(
        xero_sandbox, "PUT", path, {"Options": [{"Name": "Apollo"}, {"Name": "Gemini"}]}
    )
    assert status == 200, body
    assert [o["Name"] for o in body["Options"]] == ["Apollo", "Gemini"]
    status, body = _call(xero_sandbox, "PUT", path, {"Name": "apollo"})
    assert status == 400 and "already exists" in _messages(body)[0]
    gemini = next(o for o in _all_options(xero_sandbox) if o["Name"] == "Gemini")
    status, _ = _call(
        xero_sandbox,
        "POST",
        f"{path}/{gemini['TrackingOptionID']}",
        {"Status": "ARCHIVED"},
    )
    assert status == 200
    status, body = _call(xero_sandbox, "GET", CATS)
    assert [o["Name"] for o in body["TrackingCategories"][0]["Options"]] == ["Apollo"]
    status, body = _call(
        xero_sandbox, "PUT", path, {"Options": [{"Name": f"P{i}"} for i in range(100)]}
    )
    assert status == 400 and "at most 100 active options" in _messages(body)[0]


@pytest.mark.xero_sandbox(contract_mode=False)
def test_names_longer_than_100_characters_are_refused(xero_sandbox):
    """Xero's limit on category and option names (the spec's maxLength too)."""
    status, body = _call(xero_sandbox, "PUT", CATS, {"Name": "x" * 101})
    assert status == 400 and "100 characters" in _messages(body)[0]
    cat = _category(xero_sandbox, "Project")
    path = f"{CATS}/{cat['TrackingCategoryID']}/Options"
    status, body = _call(xero_sandbox, "PUT", path, {"Name": "y" * 101})
    assert status == 400 and "100 characters" in _messages(body)[0]


def _all_options(sandbox: Any) -> list[dict[str, Any]]:
    """Every option of every category (archived too)."""
    _, body = _call(sandbox, "GET", CATS + "?includeArchived=true")
    return [o for c in body["TrackingCategories"] for o in c["Options"]]


def test_lines_keep_tracking_and_unknown_names_are_refused(xero_sandbox):
    """A line naming a real option is kept with ids; unknown names are refused."""
    cat = _category(xero_sandbox, "Project")
    path = f"{CATS}/{cat['TrackingCategoryID']}/Options"
    _call(xero_sandbox, "PUT", path, {"Options": [{"Name": "Apollo"}, {"Name": "Old"}]})
    status, body = _invoice(xero_sandbox, [{"Name": "project", "Option": "apollo"}])
    assert status == 200, body
    tracking = body["Invoices"][0]["LineItems"][0]["Tracking"]
    assert [(t["Name"], t["Option"]) for t in tracking] == [("Project", "Apollo")]
    assert tracking[0]["TrackingCategoryID"] == cat["TrackingCategoryID"]
    status, body = _invoice(xero_sandbox, [{"Name": "Region", "Option": "North"}])
    assert status == 400
    assert "no ACTIVE tracking category with the name 'Region'" in _messages(body)[0]
    status, body = _invoice(xero_sandbox, [{"Name": "Project", "Option": "Zeta"}])
    assert status == 400 and "no ACTIVE tracking option 'Zeta'" in _messages(body)[0]
    old = next(o for o in _all_options(xero_sandbox) if o["Name"] == "Old")
    _call(
        xero_sandbox,
        "POST",
        f"{path}/{old['TrackingOptionID']}",
        {"Status": "ARCHIVED"},
    )
    status, body = _invoice(xero_sandbox, [{"Name": "Project", "Option": "Old"}])
    assert status == 400 and "no ACTIVE tracking option 'Old'" in _messages(body)[0]
    status, body = _call(xero_sandbox, "DELETE", f"{CATS}/{cat['TrackingCategoryID']}")
    assert status == 400 and "archive it instead" in _messages(body)[0]
