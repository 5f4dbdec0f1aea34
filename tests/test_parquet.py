"""results.parquet: one row per article with its takeaways, FAQ, evidence, usage and error; complete after a resume."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from takeaways import parquet
from tests.fakellm import FakeLLM
from tests.site import Site
from tests.test_batch import results, run

pa = pytest.importorskip("pyarrow", reason="pyarrow (the parquet extra) is not installed")
pq = pytest.importorskip("pyarrow.parquet")
pd = pytest.importorskip("pandas")

LLM = ["-e", "openai", "--api-key", "k", "--workers", "0", "--retry-wait", "0.01", "--progress", "none",
       "--max-retries", "0"]


def test_parquet_has_one_row_per_article_and_survives_a_resume(fake_llm: FakeLLM, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with Site(flaky_failures=5) as site:
        first = [site.url("/a/1.html"), site.url("/flaky/1.html"), site.url("/nav.html")]
        run([*first, "--out", str(out), "--base-url", fake_llm.url, "-f", "md,parquet", *LLM])
        assert pq.read_table(out / "results.parquet").num_rows == 3
        site.flaky_failures = 0
        run([*first, site.url("/a/2.html"), "--out", str(out), "--base-url", fake_llm.url, "--retry-failed",
             "-f", "parquet", *LLM])
    assert len(results(out)) == 5  # the flaky page's failure and its later success are both in the log
    path = out / "results.parquet"
    assert len(list(out.glob("*.md"))) == 1  # -f parquet alone: no per-article files for the second run's items
    table = pq.read_table(path)
    assert table.schema == parquet.schema()
    df = pd.read_parquet(path).set_index("source")
    assert sorted(df.index) == sorted([*first, site.url("/a/2.html")])
    assert df.loc[site.url("/flaky/1.html"), "status"] == "done"  # the retried item's final outcome
    assert df.loc[site.url("/nav.html"), "status"] == "skipped"
    assert df.loc[site.url("/nav.html"), "reason"].startswith("ExtractionError")
    row = df.loc[site.url("/a/1.html")]
    assert row["title"] == "News about the railway 1" and row["language"] == "en" and row["engine"] == "openai"
    takeaway = row["takeaways"][0]
    assert takeaway["evidence"] and takeaway["evidence"] in takeaway["text"]
    assert 0.0 < takeaway["support_score"] <= 1.0 and takeaway["repaired_from"] is None  # the support check's verdict
    assert {"question", "answer", "evidence", "evidence_start", "evidence_end", "match"} <= set(row["faq"][0])
    assert row["usage"]["requests"] == 1 and row["usage"]["prompt_tokens"] == 100
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_support_score_and_repaired_from_of_each_item(tmp_path: Path) -> None:
    item = {"evidence": "Rents rose 4% in May.", "evidence_span": [10, 31], "match": "exact", "match_score": 1.0,
            "origin": "llm"}
    digest = {"article": {"title": "Rents"}, "engine": "openai",
              "takeaways": [{**item, "text": "Rents rose 4% in May.", "support_score": 1.0,
                             "repaired_from": "Rents rose 9% in May."},
                            {**item, "text": "Rents went up 4% in May.", "support_score": 0.71}],
              "faq": [{**item, "question": "What rose?", "answer": "Rents, by 4%.", "support_score": 0.8}]}
    (tmp_path / "results.jsonl").write_text(json.dumps({"source": "a", "key": "k", "status": "done",
                                                        "digest": digest}) + "\n")
    row = pq.read_table(parquet.write(tmp_path)).to_pylist()[0]
    assert [(t["support_score"], t["repaired_from"]) for t in row["takeaways"]] == [
        (1.0, "Rents rose 9% in May."), (0.71, None)]
    assert row["faq"][0]["support_score"] == 0.8 and row["faq"][0]["repaired_from"] is None
    assert row["takeaways"][0]["evidence_start"] == 10


def test_an_empty_run_writes_an_empty_table_with_the_schema(tmp_path: Path) -> None:
    (tmp_path / "results.jsonl").write_text("")
    assert pq.read_table(parquet.write(tmp_path)).num_rows == 0


def test_format_parquet_without_pyarrow_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if it were not installed
    res = run([str(tmp_path), "--out", str(tmp_path / "out"), "-e", "extractive", "-f", "md,parquet"])
    assert res.exit_code == 1
    assert res.stderr == "Error: --format parquet needs pyarrow: pip install 'takeaways[parquet]'\n"
    assert not (tmp_path / "out").exists()
