"""Statistics in a real browser (issue 18): a housing officer opens the dashboard (charts drawn
by plotly.js served by the app, under the strict CSP), builds an ad-hoc table, sees its low and
hidden cells marked and the budget go down, exports it as XLSX, and the file opens with pandas
with the numbers of the page. Every page is scanned by axe; screenshots at 360 and 1280 px, in
English and French, are kept under /tmp/shots/stats/ for review."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from playwright.sync_api import Page, expect

from databank.domain.enums import Role
from tests.browser.conftest import World, axe_check, login, user

SHOTS = Path("/tmp/shots/stats")  # noqa: S108 - review screenshots for the lead, not secrets
OFFICER = user(Role.HOUSING_OFFICER, "metropole")


def _period() -> dict[str, str]:
    """The last 12 months up to this one: the world's cases are two days old, and the default
    period (the last 12 complete months) would not hold them yet."""
    today = datetime.now(UTC).date()
    index = today.year * 12 + today.month - 1 - 11
    return {"start": f"{index // 12}-{index % 12 + 1:02d}", "end": today.strftime("%Y-%m")}


def _dashboard(page: Page) -> None:
    period = _period()
    page.goto(f"/statistics?granularity=month&start={period['start']}&end={period['end']}")


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _charts_drawn(page: Page) -> None:
    charts = page.locator("[data-chart]")
    expect(charts.first).to_be_visible()
    expect(page.locator(".chart-drawn")).to_have_count(charts.count())
    assert page.locator(".chart-drawn .main-svg").count() >= charts.count()


def _no_page_overflow(page: Page) -> None:
    """Readable at this width: the page itself never scrolls sideways (wide tables scroll in
    their own container)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size
    assert viewport is not None
    wide = page.evaluate(
        "w => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect()"
        ".right > w + 1 && !(e.parentElement && e.parentElement.closest('.table-scroll')))"
        ".slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id)",
        viewport["width"],
    )
    assert width <= viewport["width"], f"{width}px wide at {viewport['width']}px: {wide}"


def _budget_left(page: Page) -> float:
    return float(page.locator("[data-budget-left]").first.inner_text().split("/")[0].strip())


def _page_cells(page: Page) -> list[list[str]]:
    rows = page.locator(".stats-table tbody tr, .stats-table tfoot tr")
    return [
        [c.strip() for c in rows.nth(i).locator("th, td").all_inner_texts()]
        for i in range(rows.count())
    ]


def _visible_text(cell: str) -> str:
    """A page cell as a reader sees it ("<10" and "x" carry screen-reader words beside them)."""
    return cell.replace("fewer than 10", "").replace("hidden", "").strip()


def test_an_officer_builds_a_table_and_exports_it(
    new_page: Callable[[str], Page], world: World, tmp_path: Path
) -> None:
    page = new_page("desktop")
    login(page, world, OFFICER)
    _dashboard(page)
    _charts_drawn(page)
    expect(page.get_by_role("heading", name="How to read these tables")).to_be_visible()
    # The world's few people: small counts show as "<10", marked.
    assert page.locator(".stats-table td.mark-low").count() > 0
    _shot(page, "dashboard-en-1280")
    axe_check(page)

    page.get_by_role("link", name="Build a table").click()
    before = _budget_left(page)
    expect(page.locator("[data-preview]")).to_contain_text("Expected error")
    page.get_by_label("First characteristic").select_option("age_band")
    page.get_by_label("Second (optional)").select_option("sex")
    page.get_by_label("From (month)").fill(_period()["start"])
    page.get_by_label("To (month)").fill(_period()["end"])
    page.get_by_label("Privacy cost (epsilon)").fill("0.5")
    page.get_by_role("button", name="Check cost").click()
    expect(page.locator("[data-preview]")).to_contain_text("Cost: 0.5")
    assert _budget_left(page) == before  # checking costs nothing
    _shot(page, "builder-en-1280")
    axe_check(page)

    page.get_by_role("button", name="Run the table").click()
    expect(page.get_by_role("heading", name="Your table", level=1)).to_be_visible()
    assert _budget_left(page) == before - 0.5
    expect(page.locator("[data-epsilon]")).to_have_text("0.5")
    marked = page.locator(
        ".stats-table td.mark-low, .stats-table td.mark-dominant, "
        ".stats-table td.mark-secondary, .stats-table td.mark-zero"
    )
    assert marked.count() > 0
    _charts_drawn(page)
    _shot(page, "release-en-1280")
    axe_check(page)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download XLSX").click()
    saved = tmp_path / "table.xlsx"
    download.value.save_as(saved)
    frame = pd.read_excel(saved, sheet_name=0, dtype=str, keep_default_na=False)
    shown = [[_visible_text(c) for c in line] for line in _page_cells(page)]
    assert [list(map(str, line)) for line in frame.itertuples(index=False)] == shown
    assert list(frame.columns) == page.locator(".stats-table thead th").all_inner_texts()

    # The builder again: the budget shown has gone down.
    page.goto("/statistics/tables")
    assert _budget_left(page) == before - 0.5

    page.get_by_role("button", name="Français").click()
    _dashboard(page)
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    _charts_drawn(page)
    expect(page.get_by_role("heading", name="Statistiques", level=1)).to_be_visible()
    _shot(page, "dashboard-fr-1280")
    axe_check(page)
    page.goto("/statistics/tables")
    _shot(page, "builder-fr-1280")
    axe_check(page)


def test_the_dashboard_reads_on_a_phone_in_both_languages(
    new_page: Callable[[str], Page], world: World
) -> None:
    page = new_page("mobile")
    login(page, world, OFFICER)
    for lang in ("en", "fr"):
        if lang == "fr":
            page.get_by_role("button", name="Français").click()
        _dashboard(page)
        _charts_drawn(page)
        _shot(page, f"dashboard-{lang}-360")
        _no_page_overflow(page)
        axe_check(page)
        page.goto("/statistics/tables")
        _shot(page, f"builder-{lang}-360")
        _no_page_overflow(page)
        axe_check(page)
