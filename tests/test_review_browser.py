"""The review pages in a real headless Chromium, opened from file:// as an editor would.

Skipped (with the reason) where Chromium or Playwright is missing, e.g. on a laptop; on CI
(CI set) a missing browser fails instead, so these tests can never be skipped silently there.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from takeaways import review
from tests import browser
from tests.reviewkit import HOSTILE_IMG, HOSTILE_SCRIPT, HOSTILE_TEXT, batch_run, mixed_digest

_why = browser.missing()
if _why is not None:
    if browser.on_ci():
        pytest.fail(f"CI must run the browser tests, but {_why}; .ci/run installs chromium", pytrace=False)
    pytest.skip(f"browser tests skipped: {_why}", allow_module_level=True)

ARTIFACTS = Path(os.environ.get("TAKEAWAYS_TEST_ARTIFACTS") or Path(__file__).resolve().parents[1] / "build" / "test-artifacts")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with browser.browser() as b:
        yield b


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    pg = context.new_page()
    pg.errors = []  # type: ignore[attr-defined]
    pg.on("pageerror", lambda exc: pg.errors.append(str(exc)))  # type: ignore[attr-defined]
    yield pg
    context.close()


@pytest.fixture
def mixed_page(tmp_path: Path) -> tuple[Path, Any, Any]:
    digest, article = mixed_digest()
    path = tmp_path / "page.html"
    path.write_text(review.article_page(digest, article, run="run-1", key="harbor-key", source="harbor.html"))
    return path, digest, article


def test_every_span_is_highlighted_and_clicking_an_item_shows_its_quote(page: Any, mixed_page: Any) -> None:
    from playwright.sync_api import expect

    path, digest, article = mixed_page
    page.goto(path.as_uri())
    for n, t in enumerate(digest.takeaways, 1):  # the browser's view of the marks matches each span
        text = page.eval_on_selector_all(f"mark.ev[data-ids~='t{n}']", "ms => ms.map(m => m.textContent).join('')")
        assert text == article.text[slice(*t.evidence_span)].replace("\n", "")
    far = page.locator("mark.ev[data-ids~='t3']").first  # the hostile sentence, far down the article
    expect(far).not_to_be_in_viewport()
    page.click("li[data-id='t3'] .text")
    expect(far).to_be_in_viewport()
    expect(far).to_have_class("ev current flash")
    expect(page.locator("li[data-id='t3']")).to_have_class("item current")
    assert page.locator("mark.ev.flash").count() == page.locator("mark.ev[data-ids~='t3']").count()
    # a highlight says which items quote it
    page.click("mark.ev[data-ids~='t1']")
    expect(page.locator("#uses")).to_be_visible()
    expect(page.locator("#uses a")).to_have_text(["t1: The council approved the lease 7-2."])
    page.click("#uses a")
    expect(page.locator("li[data-id='t1']")).to_have_class("item current")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review-page.png"))
    assert page.errors == []


def test_keys_and_buttons_decide_and_export_writes_decisions_json(page: Any, mixed_page: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    path, digest, _ = mixed_page
    page.goto(path.as_uri())
    page.keyboard.press("j")
    page.keyboard.press("a")  # t1 approved
    page.keyboard.press("j")
    page.keyboard.press("r")  # t2 rejected
    page.click("li[data-id='q1'] button.reject")
    page.keyboard.press("Shift+A")  # the article approved
    expect(page.locator("li[data-id='t1']")).to_have_attribute("data-decision", "approve")
    expect(page.locator("li[data-id='t2']")).to_have_attribute("data-decision", "reject")
    expect(page.locator("#article-state")).to_have_text("article approved")
    page.reload()  # decisions persist in the browser
    expect(page.locator("li[data-id='q1']")).to_have_attribute("data-decision", "reject")
    page.keyboard.press("k")  # k from nothing selects the first item; pressing a again clears it
    page.keyboard.press("a")
    expect(page.locator("li[data-id='t1']")).not_to_have_attribute("data-decision", "approve")
    with page.expect_download() as info:
        page.click("button[data-action='export']")
    download = info.value
    assert download.suggested_filename == "decisions.json"
    data = json.loads(Path(download.path()).read_text())
    assert data["format"] == "takeaways-review/1" and data["run"] == "run-1"
    assert data["articles"] == {"harbor-key": {"digest": review.fingerprint(digest), "decision": "approve",
                                               "items": {"t2": "reject", "q1": "reject"}}}
    assert page.errors == []


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One finished batch run with its review pages, made before the browser starts (in a thread:
    Playwright's sync API keeps an event loop running in this one)."""
    with ThreadPoolExecutor(1) as pool:
        out = pool.submit(batch_run, tmp_path_factory.mktemp("run")).result()
    review.write_run(out)
    return out


def test_hostile_article_text_runs_no_script(page: Any, run_dir: Path) -> None:
    out = run_dir
    hostile = next(p for p in (out / "review").glob("*.html") if "Comment box" in p.read_text())
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(hostile.as_uri())
    page.click("li[data-id='t1'] .text")  # the page's own script runs under its CSP ...
    assert page.locator("mark.ev.flash").count() > 0
    assert page.evaluate("typeof window.__pwned") == "undefined"  # ... the article's does not
    assert dialogs == []
    assert page.locator("script").count() == 2 and page.locator("img").count() == 0
    text = page.inner_text("#text")
    assert HOSTILE_SCRIPT in text and HOSTILE_IMG in text
    assert HOSTILE_TEXT.split("\n\n")[0] in page.inner_text("h1")
    assert page.errors == []


def test_index_filters_by_status_and_attention(page: Any, run_dir: Path) -> None:
    index = run_dir / "review" / "index.html"
    page.goto(index.as_uri())
    visible = "rows => rows.filter(r => !r.hidden).map(r => r.dataset.status)"
    assert sorted(page.eval_on_selector_all("#rows tr", visible)) == ["done", "done", "skipped"]
    page.select_option("#status-filter", "done")
    assert page.eval_on_selector_all("#rows tr", visible) == ["done", "done"]
    page.select_option("#status-filter", "")
    page.check("#attention-filter")
    assert page.eval_on_selector_all("#rows tr", visible) == ["skipped"]
    assert page.inner_text("#shown") == "1 of 3 shown"
    page.uncheck("#attention-filter")
    page.click("#rows a >> nth=0")  # an article page, and back
    page.keyboard.press("Shift+R")
    page.click("a.back")
    assert "rejected" in page.eval_on_selector_all("#rows td.decision", "cs => cs.map(c => c.textContent)")
    assert page.errors == []
