"""The Perfex module's "Xero" menu item opens the panel signed in (new tab, or framed).

A stand-in Perfex admin page (tests/perfex_module/perfex_site.php under `php -S`)
renders the sidebar item the module adds and serves the module's own pages; the
panel runs on its own port. Screenshots land in docs/screenshots/ with
`make screenshots`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser import test_panel
from tests.fixtures.webapp import make_test_app
from tests.perfex_module.php import php_server, served

page = test_panel.page  # the headless Chromium page fixture
SHOTS_ENV = test_panel.SHOTS_ENV
SECRET = "browser-sso-secret-0123456789"  # noqa: S105 - a test secret


def _options(state: Path, **options: str) -> None:
    """Write the module's options into the stand-in Perfex's state."""
    rows = [
        {"id": n, "name": f"pxflask_{k}", "value": v}
        for n, (k, v) in enumerate(options.items(), 1)
    ]
    state.write_text(json.dumps({"tbloptions": rows}))


@pytest.fixture
def perfex_and_panel(tmp_path, perfex_copy_url) -> Iterator[tuple[str, str, Path]]:
    """(stand-in Perfex origin, panel origin, the stand-in's state file)."""
    state = tmp_path / "perfex-state.json"
    _options(state)
    with php_server(state, "perfex_site.php") as perfex:
        app = make_test_app(
            tmp_path,
            perfex_copy_url,
            PXFLASK_SSO_SECRET=SECRET,
            PXFLASK_FRAME_ANCESTORS=perfex,
        )
        with served(app) as panel:
            yield perfex, panel, state


def test_the_xero_menu_item_opens_the_panel_signed_in(
    page: Page,
    perfex_and_panel,
    tmp_path,
):
    """New tab by default; inside Perfex in a frame when the admin chose it."""
    perfex, panel, state = perfex_and_panel
    shots = Path(os.environ.get(SHOTS_ENV) or tmp_path)
    _options(state, panel_url=panel, shared_secret=SECRET, open_in="tab")
    page.goto(f"{perfex}/admin")
    item = page.locator("#menu-pxflask")
    expect(item).to_have_text("Xero")
    expect(item).to_have_attribute("target", "_blank")
    page.screenshot(path=str(shots / "perfex-menu.png"))
    with page.context.expect_page() as opened:
        item.click()
    tab = opened.value
    tab.wait_for_load_state()
    assert tab.url.startswith(panel)
    expect(tab.locator("form.signout button")).to_have_text("Sign out")
    tab.screenshot(path=str(shots / "perfex-menu-panel.png"))

    _options(state, panel_url=panel, shared_secret=SECRET, open_in="iframe")
    fresh = page.context.browser.new_context(viewport={"width": 1280, "height": 900})
    framed = fresh.new_page()
    framed.goto(f"{perfex}/admin")
    item = framed.locator("#menu-pxflask")
    expect(item).not_to_have_attribute("target", "_blank")
    item.click()
    framed.wait_for_url(f"{perfex}/admin/pxflask/frame")
    inside = framed.frame_locator("iframe")
    expect(inside.locator("form.signout button")).to_have_text("Sign out")
    framed.screenshot(path=str(shots / "perfex-menu-frame.png"))
    fresh.close()
