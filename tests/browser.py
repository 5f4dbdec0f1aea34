"""A real headless Chromium for the review-page tests: Debian's `chromium`, driven by Playwright
(its own browser downloads need the internet, so it launches the system binary).

    python -m tests.browser docs/review.png     the README's screenshot of a review page
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]


def chromium_path() -> str | None:
    found = shutil.which("chromium")
    return found or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


def missing() -> str | None:
    """Why the browser tests cannot run here (None: they can)."""
    if chromium_path() is None:
        return "no chromium on PATH (Debian: apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install 'takeaways[test]')"
    return None


def on_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


@contextmanager
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=ARGS)
        try:
            yield b
        finally:
            b.close()


def screenshot(page_file: Path, png: Path, *, click: str | None = "q1") -> None:
    """A screenshot of a review page, after clicking an item so its quote is marked."""
    with browser() as b:
        page = b.new_page(viewport={"width": 1280, "height": 860})
        page.goto(page_file.resolve().as_uri())
        if click:
            page.click(f"li[data-id='{click}'] .text")
            page.wait_for_timeout(1500)  # let the flash fade, for a calm picture (not a test)
        png.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(png))


if __name__ == "__main__":  # pragma: no cover - makes the README's picture
    import tempfile

    from takeaways import review
    from tests.reviewkit import mixed_digest

    digest, article = mixed_digest()
    with tempfile.TemporaryDirectory() as tmp:
        html = Path(tmp) / "page.html"
        html.write_text(review.article_page(digest, article, run="example", key="harbor", source="harbor.html"))
        screenshot(html, Path(sys.argv[1] if len(sys.argv) > 1 else "docs/review.png"))
