"""The values that flow through the pipeline: Page → Article → Digest."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

BlockKind = Literal["heading", "paragraph", "list_item", "quote", "table"]


class Page(BaseModel):
    """Raw bytes of one source, before extraction."""

    model_config = ConfigDict(frozen=True)

    source: str = Field(description="What the user gave: a URL, a path or '-'.")
    url: str | None = None
    content: bytes
    content_type: Literal["html", "text"] = "html"
    encoding: str | None = Field(None, description="Declared or detected charset, if known.")


class Block(BaseModel):
    """One structural element of the article body, in reading order."""

    model_config = ConfigDict(frozen=True)

    kind: BlockKind
    text: str
    level: int = 0


class ExistingBlock(BaseModel):
    """An FAQ or Key Takeaways block the page already had; kept out of the engines' text."""

    kind: Literal["faq", "takeaways"]
    heading: str
    items: list[str]


class ArticleMeta(BaseModel):
    """What the outputs say about the article."""

    url: str | None = None
    title: str | None = None
    author: str | None = None
    date: str | None = None
    sitename: str | None = None
    language: str | None = None
    word_count: int = 0


class Article(ArticleMeta):
    """Extracted article: metadata plus the body as blocks (headings, paragraphs, list items)."""

    blocks: list[Block] = Field(default_factory=list)
    existing_blocks: list[ExistingBlock] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def text(self) -> str:
        """The text the engines see: one block a line, headings included."""
        return "\n".join(b.text for b in self.blocks)

    @property
    def meta(self) -> ArticleMeta:
        return ArticleMeta.model_validate(self.model_dump(include=set(ArticleMeta.model_fields)))


Origin = Literal["llm", "extractive"]


Match = Literal["exact", "normalised", "fuzzy"]


class Takeaway(BaseModel):
    """One Key Takeaways bullet with the verbatim quote that supports it.

    Where grounding found the quote (set by grounding.verify, None before): `evidence_span` is
    [start, end) in character offsets into `article.text` (None when the quote is only in the
    title); `match` says how: verbatim ("exact"), after normalising case, quote marks, dashes and
    whitespace ("normalised"), or a window at least grounding.MIN_SIMILARITY alike ("fuzzy");
    `match_score` is that similarity (1.0 otherwise). `filled` items were topped up from the
    offline engine; `replaces` is the `index` of the dropped entry of the same kind they stand in
    for (None: they fill a shortfall the engine left). `support_score` is support.py's verdict on
    the text against its quote (0 to 1; None before the check); `repaired_from` is the engine's own
    text when the check replaced it by its quote.
    """

    text: str
    evidence: str
    origin: Origin = "extractive"
    evidence_span: tuple[int, int] | None = None
    match: Match | None = None
    match_score: float | None = None
    filled: bool = False
    replaces: int | None = None
    support_score: float | None = None
    repaired_from: str | None = None


class QA(BaseModel):
    """One FAQ entry with the verbatim quote that supports the answer (evidence fields as in Takeaway)."""

    question: str
    answer: str
    evidence: str
    origin: Origin = "extractive"
    evidence_span: tuple[int, int] | None = None
    match: Match | None = None
    match_score: float | None = None
    filled: bool = False
    replaces: int | None = None
    support_score: float | None = None
    repaired_from: str | None = None


DropKind = Literal["takeaway", "faq"]


class Dropped(BaseModel):
    """An item a check removed, kept for review (never rendered into the published blocks).

    `check` names the check that failed: "empty", "duplicate", "question_mark", "evidence"
    (grounding) or "support" (support.py); `reason` is the human sentence; `details` holds
    check-specific figures (e.g. the best similarity found).
    """

    kind: DropKind
    index: int = Field(description="1-based position among the engine's items of this kind")
    item: Takeaway | QA
    check: str
    reason: str
    details: dict[str, Any] = Field(default_factory=dict)

    @property
    def warning(self) -> str:
        """The warning string for humans; it names kind and position, never the dropped text."""
        label = "takeaway" if self.kind == "takeaway" else "FAQ item"
        return f"dropped {label} {self.index} ({self.item.origin}): {self.reason}"


class Usage(BaseModel):
    """Tokens and money spent on one article (every attempt counted)."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, other: Usage) -> Usage:
        return Usage(
            requests=self.requests + other.requests,
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            cost_usd=round(self.cost_usd + other.cost_usd, 8),
        )


class Digest(BaseModel):
    """The result for one article: both blocks, where they came from, and what they cost."""

    article: ArticleMeta
    takeaways: list[Takeaway] = Field(default_factory=list)
    faq: list[QA] = Field(default_factory=list)
    engine: str
    model: str | None = None
    usage: Usage = Field(default_factory=Usage)
    warnings: list[str] = Field(default_factory=list)
    existing_blocks: list[ExistingBlock] = Field(default_factory=list)
    dropped: list[Dropped] = Field(default_factory=list)


class Spec(BaseModel):
    """What to generate: counts and language. Passed to every engine."""

    takeaways: int = Field(5, ge=0, le=50)
    questions: int = Field(4, ge=0, le=50)
    language: str | None = None
