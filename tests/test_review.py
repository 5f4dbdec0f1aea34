"""Review pages (`takeaways review`, `summarize --review`) and `takeaways apply-review`, without a browser."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from click.testing import CliRunner, Result

from takeaways import review, support
from takeaways.cli import cli
from takeaways.models import Article, Digest
from tests.reviewkit import FIXTURES, HOSTILE_IMG, HOSTILE_SCRIPT, batch_run, mixed_digest


@pytest.fixture(scope="module")
def _finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return batch_run(tmp_path_factory.mktemp("run"))


@pytest.fixture
def fresh_run(_finished: Path) -> Callable[[Path], Path]:
    """A copy of one finished batch run (made once per module; a batch run takes seconds)."""
    def copy(tmp_path: Path) -> Path:
        return Path(shutil.copytree(_finished, tmp_path / "out"))
    return copy


def C(name: str) -> str:
    """XPath for `.name` (lxml's CSS selectors need the cssselect package)."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def results(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]


def marks_of(doc: Any, item_id: str) -> str:
    return "".join(m.text_content() for m in doc.xpath(f"//mark[{C('ev')}]") if item_id in m.get("data-ids").split())


def assert_every_span_highlighted(doc: Any, digest: Digest, article: Article) -> None:
    for prefix, items in (("t", digest.takeaways), ("q", digest.faq)):
        for n, item in enumerate(items, 1):
            if item.evidence_span is not None:
                assert marks_of(doc, f"{prefix}{n}") == article.text[slice(*item.evidence_span)].replace("\n", "")


def assert_safe(html: str) -> None:
    """Only the page's own two scripts, no event-handler attributes, no injected elements, a CSP by hash."""
    doc = lxml.html.fromstring(html)
    scripts = doc.xpath("//script")
    assert [s.get("type") for s in scripts] == ["application/json", None]
    assert not [a for el in doc.iter() if isinstance(el.tag, str) for a in el.attrib if a.lower().startswith("on")]
    assert not doc.xpath("//img | //iframe | //object | //embed | //base | //form")
    csp = doc.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")[0]
    digest = base64.b64encode(hashlib.sha256(scripts[1].text.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp and "default-src 'none'" in csp
    assert "http://" not in html.split("<body", 1)[1].split('id="review-data"')[0].replace("https://ledger.example", "")


def test_a_run_gets_an_index_and_a_page_per_finished_article(tmp_path: Path, fresh_run: Callable[[Path], Path]) -> None:
    out = fresh_run(tmp_path)
    res = invoke("review", str(out))
    assert res.exit_code == 0, res.output
    index = out / "review" / "index.html"
    assert res.output.strip() == str(index)
    doc = lxml.html.fromstring(index.read_text())
    rows = doc.xpath("//tbody[@id='rows']/tr")
    assert sorted(r.get("data-status") for r in rows) == ["done", "done", "skipped"]
    skipped = next(r for r in rows if r.get("data-status") == "skipped")
    assert skipped.get("data-attention") == "1" and not skipped.xpath(".//a")
    lines = {x["key"]: x for x in results(out)}
    for row in rows:
        if row.get("data-status") != "done":
            continue
        rec = lines[row.get("data-key")]
        digest = Digest.model_validate(rec["digest"])
        cells = [c.text_content() for c in row.xpath("./td")]
        assert cells[2:5] == [str(len(digest.takeaways) + len(digest.faq)), "0", "0"]  # kept, dropped, filled
        page = out / "review" / row.xpath(".//a")[0].get("href")
        html = page.read_text()
        assert_safe(html)
        from takeaways.batch.journal import read_article

        assert_every_span_highlighted(lxml.html.fromstring(html), digest, read_article(out, rec["article"]))
    assert_safe(index.read_text().replace('"><img', ""))  # the index has no article text, only titles


def test_hostile_article_text_is_shown_as_text(tmp_path: Path, fresh_run: Callable[[Path], Path]) -> None:
    out = fresh_run(tmp_path)
    invoke("review", str(out))
    pages = [p.read_text() for p in (out / "review").glob("*.html") if p.name != "index.html"]
    hostile = next(p for p in pages if "Comment box" in p)
    assert_safe(hostile)
    doc = lxml.html.fromstring(hostile)
    text = doc.get_element_by_id("text").text_content()
    assert HOSTILE_SCRIPT in text and HOSTILE_IMG in text  # shown, as text
    assert "&lt;script&gt;window.__pwned" in hostile


def test_summarize_review_writes_one_page(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    res = invoke("summarize", str(FIXTURES / "article.html"), "-e", "extractive", "-f", "json", "--review", str(page))
    assert res.exit_code == 0, res.output
    digest = Digest.model_validate_json(res.output)
    html = page.read_text()
    assert_safe(html)
    ids = [li.get("data-id") for li in lxml.html.fromstring(html).xpath("//li[@data-id]")]
    assert ids == review.item_ids(digest) and len(ids) >= 6
    res = invoke("summarize", str(FIXTURES / "article.html"), "--dry-run", "--review", str(page))
    assert res.exit_code == 2 and "--dry-run generates none" in res.output


def test_fuzzy_filled_and_dropped_items_are_marked_with_their_reason() -> None:
    digest, article = mixed_digest()
    html = review.article_page(digest, article, run="r1", key="k", source="src")
    assert_safe(html)
    doc = lxml.html.fromstring(html)
    assert_every_span_highlighted(doc, digest, article)
    flags = {li.get("data-id"): [f.text_content() for f in li.xpath(f".//span[{C('flag')}]")] for li in doc.xpath("//li[@data-id]")}
    assert flags == {"t1": [], "t2": ["normalised"], "t3": [], "t4": ["filled"], "q1": ["fuzzy 98%"]}
    reasons = {li.get("data-id"): [r.text_content() for r in li.xpath(".//p[@class='reason']")] for li in doc.xpath("//li[@data-id]")}
    assert reasons["t4"] == ["topped up from the extractive engine; replaces dropped takeaway 3"]
    assert "98% alike" in reasons["q1"][0]
    dropped = [(li.xpath(f".//span[{C('flag')}]")[0].text_content(), li.xpath(".//p[@class='reason']")[0].text_content())
               for li in doc.xpath("//li[@data-dropped]")]
    assert dropped == [("evidence", "its evidence quote is not in the article")] * 2
    data = json.loads(doc.get_element_by_id("review-data").text)
    assert data["digest"] == review.fingerprint(digest) and [i["id"] for i in data["items"]] == [
        "t1", "t2", "t3", "t4", "q1"]


def test_an_item_the_support_check_repaired_shows_what_the_engine_wrote() -> None:
    digest, article = mixed_digest()
    t1 = digest.takeaways[0].model_copy(update={"text": digest.takeaways[0].evidence,
                                                "repaired_from": "The council <b>rejected</b> the lease."})
    digest = digest.model_copy(update={"takeaways": [t1, *digest.takeaways[1:]]})
    doc = lxml.html.fromstring(review.article_page(digest, article, run="r", key="k", source="s"))
    li = doc.xpath("//li[@data-id='t1']")[0]
    assert [f.text_content() for f in li.xpath(f".//span[{C('flag')}]")] == ["repaired"]
    assert "The council <b>rejected</b> the lease." in li.xpath(".//p[@class='reason']")[0].text_content()
    assert not doc.xpath("//b")


def test_a_kept_item_with_weak_support_is_marked_with_its_score() -> None:
    digest, article = mixed_digest()
    t = digest.takeaways
    weak = t[0].model_copy(update={"text": "The council voted 7-2 on Tuesday to lease the old coal pier to a storage firm."})
    checked = support.check_digest(digest.model_copy(update={"takeaways": [weak]}), article).takeaways[0]
    assert support.MIN_SCORE <= (checked.support_score or 0) < support.WEAK_SCORE  # published, backed only in part ("firm")
    scored = [checked, t[1].model_copy(update={"support_score": 0.95}),
              t[2].model_copy(update={"support_score": 0.7, "text": t[2].evidence, "repaired_from": "It rose 9%."}),
              *t[3:]]
    digest = digest.model_copy(update={"takeaways": scored})
    doc = lxml.html.fromstring(review.article_page(digest, article, run="r", key="k", source="s"))
    flags = {li.get("data-id"): [f.text_content() for f in li.xpath(f".//span[{C('flag')}]")] for li in doc.xpath("//li[@data-id]")}
    assert flags["t1"] == [f"support {checked.support_score:.2f}"] and flags["t2"] == ["normalised"]  # 0.95: no marker
    assert flags["t3"] == ["repaired"]  # a repaired item is its quote now: not weak
    reason = doc.xpath("//li[@data-id='t1']//p[@class='reason']")[0].text_content()
    assert f"backs this item only in part (score {checked.support_score:.2f}" in reason
    assert "below 0.65 are not published" in reason and "firm (not in the article)" in reason  # what to check
    entry = review.Entry(key="k", source="s", status="done", stem="s", digest=digest, article=article)
    assert entry.counts["weak"] == 1 and "1 weakly supported" in entry.attention
    # without the article text the page still marks it, with a general reason
    doc = lxml.html.fromstring(review.article_page(digest, None, run="r", key="k", source="s"))
    assert "some of its words are not in its quote" in doc.xpath("//li[@data-id='t1']//p[@class='reason']")[0].text_content()


def test_review_of_a_directory_that_is_no_run(tmp_path: Path) -> None:
    res = invoke("review", str(tmp_path))
    assert res.exit_code == 1 and "no results.jsonl" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "review").exists()


# -- apply-review -----------------------------------------------------------------------------------
def reviewed_run(tmp_path: Path, fresh_run: Callable[[Path], Path]) -> tuple[Path, str, dict[str, Any]]:
    out = fresh_run(tmp_path)
    invoke("review", str(out))
    run = json.loads(lxml.html.fromstring((out / "review" / "index.html").read_text())
                     .get_element_by_id("review-data").text)["run"]
    article = next(x for x in results(out) if x["status"] == "done" and "Riverton" in x["digest"]["article"]["title"])
    return out, run, article


def decisions(tmp_path: Path, run: str, articles: dict[str, Any]) -> Path:
    path = tmp_path / "decisions.json"
    path.write_text(json.dumps({"format": "takeaways-review/1", "run": run, "articles": articles}))
    return path


def snapshot(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()
            and not p.name.endswith(("-wal", "-shm"))}


def test_apply_review_renders_without_rejected_items_and_records_decisions(
        tmp_path: Path, fresh_run: Callable[[Path], Path], _finished: Path) -> None:
    out, run, rec = reviewed_run(tmp_path, fresh_run)
    digest = Digest.model_validate(rec["digest"])
    rejected_text = digest.takeaways[1].text
    path = decisions(tmp_path, run, {rec["key"]: {"digest": review.fingerprint(digest), "decision": "approve",
                                                  "items": {"t1": "approve", "t2": "reject", "q1": "reject"}}})
    res = invoke("apply-review", str(out), str(path))
    assert res.exit_code == 0, res.output
    assert res.output.startswith("1 article(s) reviewed now, 2 file(s) re-rendered; run total: 1 approved")
    md = (out / next(f for f in rec["files"] if f.endswith(".md"))).read_text()
    html = (out / next(f for f in rec["files"] if f.endswith(".html"))).read_text()
    assert rejected_text not in md and digest.takeaways[0].text in md and digest.faq[0].question not in md
    # the offline engine may ask only one question about this page (issue 14: no catch-alls); the others stay
    assert all(q.question in html for q in digest.faq[1:]) and digest.faq[0].question not in html
    last = results(out)[-1]
    assert last["key"] == rec["key"] and last["review"]["decision"] == "approve"
    assert (last["review"]["approved_items"], last["review"]["rejected_items"]) == (["t1"], ["t2", "q1"])
    after = Digest.model_validate(last["digest"])
    assert len(after.takeaways) == len(digest.takeaways) - 1
    assert [(d.kind, d.index, d.check) for d in after.dropped] == [("takeaway", 2, "review"), ("faq", 1, "review")]
    report = json.loads((out / "report.json").read_text())
    assert report["review"]["approved"] == [rec["key"]] and report["review"]["rejected_items"] == 2
    with sqlite3.connect(out / ".takeaways" / "state.db") as db:
        assert db.execute("SELECT decision FROM reviews WHERE key = ?", (rec["key"],)).fetchone() == ("approve",)
    # the journal still counts the appended lines as committed: a new batch run keeps them
    before = (out / "results.jsonl").read_bytes()
    inputs = [str(_finished.parent / "inputs"), str(_finished.parent / "hostile.jsonl")]  # the run's own inputs
    batch_run_again = CliRunner().invoke(cli, ["batch", *inputs, "--out", str(out), "-f", "md,html", "-e", "extractive",
                                               "--workers", "0", "--progress", "none"])
    assert batch_run_again.exit_code == 0 and (out / "results.jsonl").read_bytes() == before
    assert json.loads((out / "report.json").read_text())["review"] == report["review"]
    # applying the same file again changes nothing it has not already done
    assert invoke("apply-review", str(out), str(path)).exit_code == 0
    assert Digest.model_validate(results(out)[-1]["digest"]) == after
    # and the review pages, written again, show what was rejected among the dropped items
    invoke("review", str(out))
    page = lxml.html.fromstring((out / "review" / (rec["files"][0].rsplit(".", 1)[0] + ".html")).read_text())
    assert [li.xpath(f".//span[{C('flag')}]")[0].text_content() for li in page.xpath("//li[@data-dropped]")] == ["review", "review"]


@pytest.mark.parametrize("problem", ["other run", "unknown article", "unknown item", "old digest", "not json",
                                     "no format"])
def test_apply_review_refuses_a_wrong_decisions_file_and_changes_nothing(tmp_path: Path, problem: str,
                                                                         fresh_run: Callable[[Path], Path]) -> None:
    out, run, rec = reviewed_run(tmp_path, fresh_run)
    good = {"digest": review.fingerprint(Digest.model_validate(rec["digest"])), "decision": "reject",
            "items": {"t1": "reject"}}
    articles: dict[str, Any] = {rec["key"]: good}
    if problem == "other run":
        run = "0" * 32
    elif problem == "unknown article":
        articles["url:https://nowhere.example/x"] = good
    elif problem == "unknown item":
        articles[rec["key"]] = {**good, "items": {"t1": "reject", "t99": "approve"}}
    elif problem == "old digest":
        articles[rec["key"]] = {**good, "digest": "0123456789abcdef"}
    path = decisions(tmp_path, run, articles)
    if problem == "not json":
        path.write_text("{not json")
    elif problem == "no format":
        path.write_text(json.dumps({"run": run, "articles": articles}))
    before = snapshot(out)
    res = invoke("apply-review", str(out), str(path))
    assert res.exit_code == 1 and res.output.startswith("Error: ") and "Traceback" not in res.output
    expected = {"other run": "another run", "unknown article": "unknown article 'url:https://nowhere.example/x'",
                "unknown item": "unknown item id(s) t99", "old digest": "another version of this article",
                "not json": "not a JSON file", "no format": "not a decisions file"}[problem]
    assert expected in res.output
    assert snapshot(out) == before


def test_apply_review_needs_review_pages_first(tmp_path: Path, fresh_run: Callable[[Path], Path]) -> None:
    out = fresh_run(tmp_path)
    path = decisions(tmp_path, "x", {})
    res = invoke("apply-review", str(out), str(path))
    assert res.exit_code == 1 and "run `takeaways review" in res.output
