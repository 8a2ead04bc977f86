"""The show page in a real browser: Debian's Chromium driven by Playwright, the page served
by `castcal serve`, checked with axe-core for accessibility."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import icalendar
import pytest

from castcal.media import probe as audio
from tests.conftest import REPO, need_program
from tests.serving import castcal_serve

ARTIFACTS = REPO / "tests" / "artifacts"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


def axe_script() -> Path:
    path = os.environ.get("CASTCAL_AXE_JS")
    if path and Path(path).is_file():
        return Path(path)
    message = "axe-core is not installed (set CASTCAL_AXE_JS to its axe.min.js)"
    if os.environ.get("CASTCAL_REQUIRE_SYSTEM_TOOLS") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def browser_page(project: Path) -> Iterator[tuple[Any, str, Path]]:
    chromium = need_program("chromium")
    from playwright.sync_api import sync_playwright

    with castcal_serve(project) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=FLAGS)
        context = browser.new_context(accept_downloads=True, viewport={"width": 390, "height": 844})
        page = context.new_page()
        page.goto(url)
        try:
            yield page, url, project / ".castcal-cache/preview"  # serve's own folder
        finally:
            context.close()
            browser.close()


def test_page_shows_every_episode_and_meeting(browser_page: tuple[Any, str, Path]) -> None:
    page, _, _ = browser_page
    text = page.inner_text("main")
    for title in (
        "Digital transformasjon som driver for endring",
        "Hva er endringsledelse?",
        "Endring til frokost: endringsledelse i praksis",
        "Endring til frokost: ledelse og organisasjonsutvikling i en ny digital hverdag",
        "Endring til frokost: medvirkning når organisasjonen endres",
        "Endring til frokost: et år med endringsledelse",
    ):
        assert title in text
    assert page.locator("html").get_attribute("lang") == "nb"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "show-page.png"), full_page=True)
    assert (ARTIFACTS / "show-page.png").stat().st_size > 10_000


def test_audio_metadata_and_segment_links(browser_page: tuple[Any, str, Path]) -> None:
    page, _, feeds = browser_page
    player = "#spiller-hva-er-endringsledelse"
    page.wait_for_function(f"document.querySelector('{player}').readyState >= 1")
    duration = page.evaluate(f"document.querySelector('{player}').duration")
    truth = audio.probe(feeds / "audio/hva-er-endringsledelse.mp3").duration
    assert abs(duration - truth) < 0.5, (duration, truth)
    page.click("#hva-er-endringsledelse a[data-seek='11.0']")
    page.wait_for_function(f"document.querySelector('{player}').currentTime >= 11")
    page.evaluate(f"document.querySelector('{player}').pause()")
    now = page.evaluate(f"document.querySelector('{player}').currentTime")
    assert 11 <= now < 12, now
    assert page.url.endswith("/")  # the link moved the player, not the page


def test_ics_links_download_calendars(browser_page: tuple[Any, str, Path]) -> None:
    page, _, _ = browser_page
    links = page.locator("a[download]")
    assert links.count() == 4
    for index in range(links.count()):
        with page.expect_download() as download:
            links.nth(index).click()
        data = Path(download.value.path()).read_bytes()
        calendar = icalendar.Calendar.from_ical(data)
        assert len(calendar.walk("VEVENT")) == 1


def test_keyboard_reaches_the_controls(browser_page: tuple[Any, str, Path]) -> None:
    page, _, _ = browser_page
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Hopp til innholdet"
    reached = set()
    for _ in range(30):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("document.activeElement.tagName"))
    assert {"A", "AUDIO"} <= reached


def test_axe_finds_no_serious_violations(browser_page: tuple[Any, str, Path]) -> None:
    page, _, _ = browser_page
    page.add_script_tag(path=str(axe_script()))
    results = page.evaluate("async () => await axe.run(document)")
    serious = [
        (v["id"], v["impact"], v["help"])
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == []
    assert results["passes"]
