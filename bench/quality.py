"""Write the offline engine's blocks for dev articles, for an editor to read against the rubric.

    python bench/quality.py --data ../shared/data --out /tmp/quality [--news 1-10] [--pages 1-10]

`--news A-B` takes lines A..B (1-based, inclusive) of highlights-dev.jsonl; `--pages A-B` takes
the A..B-th ids (sorted) of extraction-dev/html/*.html.gz. For each article it writes one text file
(article text, then the takeaways and the FAQ as the engine gives them) and prints a one-line summary.
This tool only writes what there is to read; the judging is done by a reader (see
../shared/eval/editor-rubric.md).
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path

from takeaways.config import Settings
from takeaways.engines.offline import ExtractiveEngine
from takeaways.extraction import extract_html, extract_text
from takeaways.models import Article, Spec


def _range(spec: str | None) -> tuple[int, int] | None:
    if not spec:
        return None
    a, _, b = spec.partition("-")
    return int(a), int(b or a)


def articles(data: Path, news: tuple[int, int] | None, pages: tuple[int, int] | None) -> list[tuple[str, Article]]:
    out: list[tuple[str, Article]] = []
    if news:
        lines = (data / "highlights-dev.jsonl").read_text(encoding="utf-8").splitlines()
        for n in range(news[0], news[1] + 1):
            row = json.loads(lines[n - 1])
            out.append((f"news{n:03d}-{row['id'][:16]}", extract_text(row["article"])))
    if pages:
        files = sorted((data / "extraction-dev" / "html").glob("*.html.gz"))
        for n in range(pages[0], pages[1] + 1):
            f = files[n - 1]
            html = gzip.decompress(f.read_bytes()).decode("utf-8", "replace")
            out.append((f"page{n:03d}-{f.name[:12]}", extract_html(html)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--out", type=Path, default=Path("/tmp/quality"))
    ap.add_argument("--news", help="lines A-B of highlights-dev.jsonl (1-based)")
    ap.add_argument("--pages", help="A-B-th sorted extraction-dev pages (1-based)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    engine, settings, spec = ExtractiveEngine(), Settings(), Spec()
    items = articles(args.data, _range(args.news), _range(args.pages))
    t0 = time.perf_counter()
    for name, article in items:
        d = engine.generate(article, spec, settings)
        lines = [f"# {name}", f"TITLE: {article.title or ''}", "", "## ARTICLE", article.text, "", "## TAKEAWAYS"]
        lines += [f"- {t.text}" for t in d.takeaways]
        lines += ["", "## FAQ"]
        for qa in d.faq:
            lines += [f"Q: {qa.question}", f"A: {qa.answer}", ""]
        if d.warnings:
            lines += ["## WARNINGS", *d.warnings]
        (args.out / f"{name}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"{name}: {len(d.takeaways)} takeaways, {len(d.faq)} questions")
    dt = time.perf_counter() - t0
    print(f"{len(items)} articles in {dt:.2f}s -> {args.out}")


if __name__ == "__main__":
    main()
