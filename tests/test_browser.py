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
from tests.test_page import TRANSCRIPT

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


WIDTHS = ((1280, 900), (390, 844), (320, 640))  # 320: WCAG 1.4.10 reflow (1280 px at 400%)
# Where to keep a screenshot of every page at every width, for people to look at (unset:
# none kept).
SHOTS = os.environ.get("CASTCAL_SHOTS")


def with_transcript_and_recording(project: Path) -> None:
    """Episode 1 given the test's transcript, and named the recording of the first meeting."""
    folder = project / "episodes/hva-er-endringsledelse"
    (folder / "transcript.vtt").write_text(TRANSCRIPT, encoding="utf-8")
    toml = folder / "episode.toml"
    extra = 'meeting = "2017-03-03-endringsledelse-i-praksis"\n'  # transcript.vtt: named
    toml.write_text(
        toml.read_text().replace('notes = "notes.md"\n', f'notes = "notes.md"\n{extra}')
    )


@pytest.fixture
def browser_page(project: Path) -> Iterator[tuple[Any, str, Path]]:
    chromium = need_program("chromium")
    with_transcript_and_recording(project)
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
    """Only the meeting ahead (shown first, and in the list) offers its calendar file."""
    page, _, _ = browser_page
    links = page.locator("a[download]")
    assert links.count() == 2
    for index in range(links.count()):
        with page.expect_download() as download:
            links.nth(index).click()
        data = Path(download.value.path()).read_bytes()
        calendar = icalendar.Calendar.from_ical(data)
        (event,) = calendar.walk("VEVENT")
        assert "medvirkning" in str(event["SUMMARY"])


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


def test_every_page_passes_axe_at_every_width(browser_page: tuple[Any, str, Path]) -> None:
    """Every page of the site, at a desktop's, a phone's and the narrowest width WCAG asks
    pages to reflow to: no violation of any impact, nothing wider than the screen. With
    CASTCAL_SHOTS set, a screenshot of each is kept there."""
    page, url, feeds = browser_page
    names = sorted(p.relative_to(feeds).as_posix() for p in feeds.rglob("*.html"))
    assert len(names) == 1 + 2 + 4  # the show page, the episodes', the meetings'
    script = axe_script()
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        for name in names:
            page.goto(url + name)
            page.add_script_tag(path=str(script))
            results = page.evaluate("async () => await axe.run(document)")
            found = [(v["id"], v["impact"], len(v["nodes"])) for v in results["violations"]]
            assert found == [], (name, width, found)
            assert results["passes"]
            scroll = page.evaluate("document.documentElement.scrollWidth")
            assert scroll <= width, (name, width, scroll)  # nothing wider than the screen
            if SHOTS:
                Path(SHOTS).mkdir(parents=True, exist_ok=True)
                shot = Path(SHOTS) / f"{name.replace('/', '-').removesuffix('.html')}-{width}.png"
                page.screenshot(path=str(shot), full_page=True)


# WCAG 1.4.12: the least text spacing a reader may set, as the W3C's test bookmarklet sets it.
TEXT_SPACING = """
* { line-height: 1.5 !important; letter-spacing: 0.12em !important;
    word-spacing: 0.16em !important; }
p { margin-bottom: 2em !important; }
"""


def test_every_page_reflows_at_320_px_with_wider_text_spacing(
    browser_page: tuple[Any, str, Path],
) -> None:
    """Long Norwegian compounds and addresses wrap rather than widen the page, even with
    the text spacing WCAG 1.4.12 lets a reader set."""
    page, url, feeds = browser_page
    page.set_viewport_size({"width": 320, "height": 640})
    for name in sorted(p.relative_to(feeds).as_posix() for p in feeds.rglob("*.html")):
        page.goto(url + name)
        page.add_style_tag(content=TEXT_SPACING)
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= 320, (name, scroll)


def test_transcript_time_plays_from_there(browser_page: tuple[Any, str, Path]) -> None:
    page, url, _ = browser_page
    page.goto(url + "episoder/hva-er-endringsledelse.html")
    page.wait_for_function("document.querySelector('#spiller').readyState >= 1")
    page.click(".transcript a[data-seek='8.5']")
    page.wait_for_function("document.querySelector('#spiller').currentTime >= 8.5")
    page.evaluate("document.querySelector('#spiller').pause()")
    now = page.evaluate("document.querySelector('#spiller').currentTime")
    assert 8.5 <= now < 9.5, now
    assert page.url.endswith("hva-er-endringsledelse.html")  # the player moved, not the page
