"""The journal: commit exactly once, resume, lookup; the executor registry."""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterator
from pathlib import Path

import pytest

from takeaways.batch import executors
from takeaways.batch.journal import Journal
from takeaways.batch.options import BatchOptions
from takeaways.batch.work import DONE, FAILED, Outcome, WorkItem
from takeaways.config import Settings
from takeaways.errors import ConfigError
from takeaways.inputs import Item
from takeaways.models import Article, Block, Digest, Takeaway, Usage

SETTINGS = Settings(engine="openai", api_key="k")


def _journal(out: Path) -> Journal:
    return Journal(BatchOptions(out=out, formats=("md", "json")), SETTINGS, use_cache=True)


def _items() -> list[Item]:
    return [Item(key=f"text:{n}", source=f"list.txt:{n}", text=f"article {n}") for n in range(3)]


def _article(n: int) -> Article:
    return Article(title=f"T{n}", blocks=[Block(kind="paragraph", text=f"The text of article number {n}.")])


def _done(item: WorkItem, n: int) -> Outcome:
    digest = Digest(article=_article(n).meta, takeaways=[Takeaway(text=f"point {n}", evidence="The text")],
                    engine="openai", usage=Usage(requests=1, prompt_tokens=10))
    return Outcome(item.key, DONE, digest=digest, article=_article(n), usage=digest.usage, worker="w1")


def test_commit_is_exactly_once_and_resume_yields_only_the_rest(tmp_path: Path) -> None:
    j = _journal(tmp_path)
    try:
        pending = list(j.pending(_items()))
        assert [p.key for p in pending] == ["text:0", "text:1", "text:2"]
        assert j.commit(pending[0], _done(pending[0], 0)) is True
        assert j.commit(pending[0], _done(pending[0], 0)) is False  # a duplicate outcome: ignored
        assert j.commit(pending[1], Outcome(pending[1].key, FAILED, error="boom", reason="X")) is True
        assert j.commit(pending[1], _done(pending[1], 1)) is False  # committed as failed: stays failed
    finally:
        j.close()
    lines = [json.loads(x) for x in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert [(r["key"], r["status"]) for r in lines] == [("text:0", "done"), ("text:1", "failed")]
    assert lines[0]["worker"] == "w1" and [f.rsplit(".", 1)[1] for f in lines[0]["files"]] == ["md", "json"]
    assert all((tmp_path / f).is_file() for f in lines[0]["files"])
    j = _journal(tmp_path)
    try:
        assert [p.key for p in j.pending(_items())] == ["text:2"]  # resume: only what is left
    finally:
        j.close()


def test_lookup_finds_duplicate_text_and_cached_results(tmp_path: Path) -> None:
    j = _journal(tmp_path / "a")
    try:
        a, b, _c = j.pending(_items())
        assert j.lookup(a, _article(0)) is None  # first to ask claims the text
        dup = j.lookup(b, _article(0))
        assert dup is not None and dup.status == "skipped" and dup.reason == "duplicate content"
        j.commit(a, _done(a, 0))
    finally:
        j.close()
    j = _journal(tmp_path / "b")  # another output dir, same user cache
    try:
        first = next(iter(j.pending(_items())))
        hit = j.lookup(first, _article(0))
        assert hit is not None and hit.cached and hit.digest is not None and hit.usage.requests == 0
        assert [t.text for t in hit.digest.takeaways] == ["point 0"]
    finally:
        j.close()


def test_work_items_and_outcomes_cross_a_process_boundary() -> None:
    item = WorkItem.of(_items()[0], SETTINGS)
    assert pickle.loads(pickle.dumps(item)) == item
    out = _done(item, 0)
    assert pickle.loads(pickle.dumps(out)) == out
    assert Outcome.from_json(json.loads(json.dumps(out.to_json()))) == out


def test_unknown_or_missing_executor_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="unknown executor 'nope'; choose from local"):
        executors.load("nope")
    monkeypatch.setitem(executors.EXECUTORS, "fake", ("takeaways.batch.executors.no_such_module", "make", ""))
    with pytest.raises(ConfigError, match="--executor fake is not available"):
        executors.load("fake")


def test_pending_yields_the_first_items_while_the_inputs_are_still_being_expanded(tmp_path: Path) -> None:
    consumed: list[int] = []

    def slow_inputs() -> Iterator[Item]:
        for n in range(5):
            consumed.append(n)
            yield Item(key=f"text:{n}", source=f"s{n}", text=f"article {n}")

    j = _journal(tmp_path)
    try:
        stream = j.pending(slow_inputs())
        first = next(stream)
        assert first.key == "text:0" and consumed == [0]  # work starts before the expansion goes on
        assert j.commit(first, Outcome(first.key, FAILED, error="x", reason="x"))  # commits run in between
        assert [w.key for w in stream] == ["text:1", "text:2", "text:3", "text:4"] and j.total == 5
    finally:
        j.close()


def test_an_unexpected_error_never_carries_the_api_key_into_the_journal() -> None:
    from takeaways.batch.work import failed
    from takeaways.errors import register_secret

    key = "sk-test-unexpected-0123456789"
    register_secret(key)
    item = WorkItem(key="text:1", source="one.txt", options=Settings())
    outcome = failed(item, RuntimeError(f"header Authorization: Bearer {key} rejected"))
    assert outcome.status == FAILED
    assert key not in (outcome.error or "") and "[redacted]" in (outcome.error or "")
    assert outcome.reason == "unexpected RuntimeError"


def test_a_duplicate_input_opening_a_transaction_leaves_none_open(tmp_path: Path) -> None:
    """The inputs are recorded in short transactions; one that starts with a key already listed
    must still be closed by flush, or the next commit fails ('transaction within a transaction')."""
    from takeaways.batch.state import State

    state = State(tmp_path / "state.db")
    try:
        first = Item(key="text:a", source="a", text="A text.")
        assert state.add(first) == "pending"
        state.flush()
        assert state.add(first) is None  # listed twice: the first thing of the next transaction
        state.flush()
        assert not state.conn.in_transaction
        assert state.add(Item(key="text:b", source="b", text="B text.")) == "pending"
        state.flush()
        assert [item.key for item, _ in state.pending()] == ["text:a", "text:b"]
    finally:
        state.close()
