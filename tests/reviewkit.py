"""Builders for the review tests: a small finished batch run, and one article with every kind of item."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from takeaways.cli import cli
from takeaways.extraction import extract_text
from takeaways.grounding import verify
from takeaways.models import QA, Article, Digest, Takeaway

FIXTURES = Path(__file__).parent / "fixtures"
HOSTILE_SCRIPT = "<script>window.__pwned = 1; alert(1)</script>"
HOSTILE_IMG = '"><img src=x onerror="window.__pwned = 2">'
HOSTILE_TEXT = "\n\n".join([
    "Comment box ran scripts on the council website",
    f"Researchers typed {HOSTILE_SCRIPT} into the feedback form of the council website last spring.",
    f"A second message, {HOSTILE_IMG} made every visitor's browser load a broken picture and run its code.",
    *(f"The council said on day {i} that the rewritten form escapes every character a resident types before "
      "it is shown to anyone." for i in range(1, 12)),
])


def batch_run(tmp_path: Path, formats: str = "md,html") -> Path:
    """A finished batch run: a real article, a hostile one (inline text) and a page that is no article."""
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "article.html").write_bytes((FIXTURES / "article.html").read_bytes())
    (inputs / "no-article.html").write_bytes((FIXTURES / "no-article.html").read_bytes())
    (tmp_path / "hostile.jsonl").write_text(json.dumps({"text": HOSTILE_TEXT}) + "\n")
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["batch", str(inputs), str(tmp_path / "hostile.jsonl"), "--out", str(out), "-f", formats, "-e", "extractive",
                                   "--workers", "0", "--progress", "none", "-t", "4", "-q", "3"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return out


def mixed_digest() -> tuple[Digest, Article]:
    """One article whose digest has an exact, a normalised, a fuzzy and a filled item, and drops."""
    article = extract_text(
        "Harbor Council Backs the Battery Plan\n\n"
        "The council voted 7-2 on Tuesday to lease the old coal pier to Tidewater Storage.\n\n"
        "Mayor Elena Vasquez called the vote “the end of one chapter” for the waterfront.\n\n"
        "The battery will store about 480 megawatt-hours — enough for 90,000 homes during the evening peak.\n\n"
        + "\n\n".join(f"Paragraph {i} repeats that the harbour plan needs no new money from the city budget."
                      for i in range(1, 30)) + "\n\n"
        + HOSTILE_TEXT.split("\n\n")[1] + "\n")
    raw = Digest(article=article.meta, engine="openai", model="test-model", takeaways=[
        Takeaway(text="The council approved the lease 7-2.", origin="llm",
                 evidence="The council voted 7-2 on Tuesday to lease the old coal pier to Tidewater Storage."),
        Takeaway(text="The mayor marked an ending.", origin="llm",
                 evidence='Mayor Elena Vasquez called the vote "the end of one chapter"'),
        Takeaway(text="Prices will halve.", origin="llm", evidence="Electricity prices will fall by half next year."),
        Takeaway(text="Researchers broke the form.", origin="llm",
                 evidence=HOSTILE_TEXT.split("\n\n")[1]),
    ], faq=[
        QA(question="How much can the battery store?", answer="About 480 MWh.", origin="llm",
           evidence="The battery will store about 480 megawatt hours — enough for 90,000 homes during the evening peak."),
        QA(question="Is the moon made of cheese?", answer="Yes.", origin="llm",
           evidence="The moon is made of green cheese, the council said."),
    ])
    digest = verify(raw, article)
    filled = Takeaway(text="The plan needs no new city money.", origin="extractive", filled=True, replaces=3,
                      evidence="Paragraph 7 repeats that the harbour plan needs no new money from the city budget.")
    filled = verify(Digest(article=article.meta, engine="extractive", takeaways=[filled]), article).takeaways[0]
    digest = digest.model_copy(update={"takeaways": [*digest.takeaways, filled]})
    return digest, article
