"""The conversation of one article, written once as a step machine (sans-IO).

`Conversation.run()` is a generator: each step it yields `Requests` (a tuple of requests that do
not depend on each other: one, or the chunks of a long article, or the merges of one level of a
merge tree), is sent back one `Outcome` per request (a `Result`: the chat completion and how many
HTTP requests it took, or the error the sender raised), and returns the `Digest` when it is done.
`converse(conv, send)` drives it with any sender: a step of one request passes through, a step of
several is yielded as a `Together` that the driver performs concurrently. An error for a request
that says the context is too small for the prompt makes it go on in chunks; every other error
ends it. It sends nothing itself, so the same logic (one request per article; re-ask once after
invalid JSON; one retry with twice the tokens after `finish_reason: length`, each for that request
only; the --max-cost check before each request; chunks asked together, then a tree of merges for
long articles) is driven by the live sync and async transports (transport.py) and replayed from
recorded answers by the batch file (engines/batchfile.py).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ... import pricing, tokens
from ...config import Settings
from ...errors import BudgetExceeded, LLMError, TakeawaysError
from ...grounding import find_evidence, normalise
from ...models import QA, Article, Digest, Spec, Takeaway, Usage
from . import answers
from .chunks import chunk_budget, split_sections
from .failures import ContextTooLong
from .requests import Messages, Request, known_mode, merge_prompt, messages, messages_tokens, system_prompt, user_prompt
from .schema import LLMOutput

ENGINE_NAME = "openai"
T = TypeVar("T")
Y = TypeVar("Y")


@dataclass
class Result:
    completion: Any  # openai ChatCompletion
    requests: int  # HTTP requests this took (retries and rejected response_format included)


Requests = tuple[Request, ...]  # the requests of one step, independent of each other: send them together
Outcome = Result | TakeawaysError  # what one request came to: its result, or the error the sender raised for it
Step = Generator[Requests, list[Outcome], T]  # yields requests, is sent one outcome per request, in order
Steps = Step[Digest]


def together(subs: Sequence[Step[Any]]) -> Step[list[Any]]:
    """Run independent step machines side by side: each step yields the requests of every
    machine still going (in the machines' order) as one batch, and hands each machine its own
    outcomes. Returns their return values in order. A machine that fails stops the others once
    the outcomes of the batch in flight are all handed out (so all of them are accounted for);
    its error is raised (the first one, in the machines' order)."""
    results: list[Any] = [None] * len(subs)
    pending: dict[int, Requests] = {}
    errors: list[TakeawaysError] = []

    def advance(i: int, outcomes: list[Outcome] | None) -> None:
        try:
            pending[i] = subs[i].send(outcomes)  # type: ignore[arg-type]
        except StopIteration as stop:
            results[i] = stop.value
        except TakeawaysError as exc:
            errors.append(exc)

    for i in range(len(subs)):
        advance(i, None)
    while pending and not errors:
        order = sorted(pending)
        batches = [pending.pop(i) for i in order]
        outcomes = yield tuple(r for batch in batches for r in batch)
        at = 0
        for i, batch in zip(order, batches, strict=True):
            advance(i, list(outcomes[at:at + len(batch)]))
            at += len(batch)
    if errors:
        for sub in subs:
            sub.close()
        raise errors[0]
    return results


@dataclass
class Conversation:
    """Per-article state: usage, warnings and the budget check. Yields requests, gets results.

    `batch=True`: answers are priced at the Batch API price, and there is no per-request budget
    check (the batch run reserves its budget per request when it writes the files)."""

    article: Article
    spec: Spec
    settings: Settings
    batch: bool = False
    usage: Usage = field(default_factory=Usage)
    warnings: list[str] = field(default_factory=list)
    reserved: float = 0.0  # the upper-bound cost of requests yielded and not answered yet (--max-cost)

    # -- accounting
    def _account(self, result: Result) -> None:
        u = getattr(result.completion, "usage", None)
        pt = int(getattr(u, "prompt_tokens", 0) or 0)
        ct = int(getattr(u, "completion_tokens", 0) or 0)
        cost = pricing.cost(self.settings.model, pt, ct, self.settings.price_file, batch=self.batch)
        self.add_usage(Usage(requests=result.requests, prompt_tokens=pt, completion_tokens=ct, cost_usd=cost))

    def add_usage(self, usage: Usage) -> None:
        self.usage = self.usage.add(usage)

    def _reserve(self, request: Request) -> float:
        """The request's upper-bound cost, checked against --max-cost with what is spent and what
        the requests sent alongside it may cost (all of a step's requests are checked before any is sent)."""
        s = self.settings
        if s.max_cost is None or self.batch:
            return 0.0
        pt = messages_tokens(request.messages, s.model, known_mode(s) or "json_schema")
        next_cost = pricing.cost(s.model, pt, request.max_tokens, s.price_file)
        if self.usage.cost_usd + self.reserved + next_cost > s.max_cost:
            raise BudgetExceeded(
                f"the next {request.purpose} request would cost up to ${next_cost:.6f} (spent so far ${self.usage.cost_usd:.6f}"
                + (f", ${self.reserved:.6f} more in flight" if self.reserved else "")
                + f"), over --max-cost ${s.max_cost:g}; raise --max-cost, lower --max-output-tokens or use a cheaper -m model")
        self.reserved += next_cost
        return next_cost

    # -- one exchange with validation re-ask and length retry
    def ask(self, msgs: Messages, purpose: str) -> Step[LLMOutput]:
        max_tokens = self.settings.max_output_tokens
        reasked = length_retried = False
        attempt = 0
        while True:
            request = Request(msgs, max_tokens, purpose, attempt)
            held = self._reserve(request)
            (outcome,) = yield (request,)
            self.reserved -= held
            if isinstance(outcome, TakeawaysError):
                raise outcome
            self._account(outcome)
            attempt += 1
            verdict = answers.read(outcome.completion, self.settings)
            if isinstance(verdict, answers.Parsed):
                return verdict.output
            if isinstance(verdict, answers.CutOff):
                if length_retried:
                    raise LLMError(f"the answer was cut off at {max_tokens} output tokens twice; raise --max-output-tokens"
                                   " or ask for fewer items with -t/-q")
                length_retried = True
                max_tokens *= 2
                self.warnings.append(f"answer cut off (finish_reason=length); retried with {max_tokens} output tokens")
                continue
            if reasked:
                raise LLMError(f"the model returned invalid output twice ({verdict.reason}); try a stronger model with -m,"
                               " or --engine extractive")
            reasked = True
            self.warnings.append(f"invalid model output ({verdict.reason[:120]}); asked again once")
            msgs = answers.reask(msgs, verdict)

    # -- the whole article
    def run(self) -> Steps:
        s = self.settings
        system = system_prompt(self.article, self.spec, s)
        msgs = messages(system, user_prompt(self.article.text, s))
        if messages_tokens(msgs, s.model, "json_schema") <= s.max_input_tokens:
            try:
                out = yield from self.ask(msgs, "article")
            except ContextTooLong:
                budget = max(200, tokens.count_tokens(self.article.text, s.model) // 2)
                self.warnings.append("the server's context is smaller than the article; retried in chunks")
                out = yield from self.map_reduce(system, budget)
        else:
            out = yield from self.map_reduce(system, chunk_budget(system, s))
        return self.digest(out)

    def map_reduce(self, system: str, budget: int) -> Step[LLMOutput]:
        """Every chunk asked at once (one step), then the merge."""
        chunks = split_sections(self.article, budget, self.settings.model)
        parts: list[LLMOutput] = yield from together([self.chunk(system, c, i, len(chunks), budget)
                                                      for i, c in enumerate(chunks, 1)])
        self.warnings.append(f"long article: {len(chunks)} chunks of at most {budget} tokens, then merged")
        merged: LLMOutput = yield from self.reduce(system, parts, 1, len(parts))
        return merged

    def chunk(self, system: str, chunk: str, i: int, total: int, budget: int) -> Step[LLMOutput]:
        user = user_prompt(chunk, self.settings, {"index": i, "total": total})
        try:
            part = yield from self.ask(messages(system, user), f"chunk {i}/{total}")
        except ContextTooLong:
            raise LLMError(f"the server rejects even {budget}-token chunks as too long for the model's context; "
                           "lower --max-input-tokens or use a model with a larger context") from None
        hay = normalise(chunk)  # candidates that do not quote their chunk never reach the merge
        return LLMOutput(takeaways=[t for t in part.takeaways if find_evidence(t.evidence, hay)],
                         faq=[q for q in part.faq if find_evidence(q.evidence, hay)])

    def reduce(self, system: str, parts: list[LLMOutput], first: int, total: int) -> Step[LLMOutput]:
        """One merge request for all candidates; only when they do not fit in --max-input-tokens,
        merge halves first (a tree of merges; the two halves of a level are asked together).
        `parts` are the chunks first..first+len-1 of `total`: a subtree's merge is named by them."""
        if len(parts) == 1:
            return parts[0]
        combined = LLMOutput(takeaways=[t for p in parts for t in p.takeaways], faq=[q for p in parts for q in p.faq])
        msgs = messages(system, merge_prompt(combined, self.spec, self.settings))
        if len(parts) > 2 and messages_tokens(msgs, self.settings.model, "json_schema") > self.settings.max_input_tokens:
            mid = len(parts) // 2
            left, right = yield from together([self.reduce(system, parts[:mid], first, total),
                                               self.reduce(system, parts[mid:], first + mid, total)])
            combined = LLMOutput(takeaways=left.takeaways + right.takeaways, faq=left.faq + right.faq)
            msgs = messages(system, merge_prompt(combined, self.spec, self.settings))
        whole = first == 1 and len(parts) == total
        merged: LLMOutput = yield from self.ask(msgs, "merge" if whole else f"merge {first}-{first + len(parts) - 1}/{total}")
        return merged

    def digest(self, out: LLMOutput) -> Digest:
        takeaways = [Takeaway(text=t.text.strip(), evidence=t.evidence.strip(), origin="llm")
                     for t in out.takeaways if t.text.strip()][: self.spec.takeaways]
        faq = [QA(question=q.question.strip(), answer=q.answer.strip(), evidence=q.evidence.strip(), origin="llm")
               for q in out.faq if q.question.strip() and q.answer.strip()][: self.spec.questions]
        return Digest(article=self.article.meta, takeaways=takeaways, faq=faq, engine=ENGINE_NAME,
                      model=self.settings.model, usage=self.usage, warnings=self.warnings,
                      existing_blocks=self.article.existing_blocks)


@dataclass
class Together:
    """What `converse` yields for a step of several requests: perform each of `exchanges` (the
    sender's step machine for one request; it returns the request's `Outcome` and never raises a
    TakeawaysError) and send back the list of their return values, in order. The live drivers
    perform them concurrently (async) or one after another (sync); the batch file writes all of
    their requests into the same round."""

    exchanges: list[Generator[Any, Any, Outcome]]


def converse(conv: Conversation, send: Callable[[Request], Generator[Y, Any, Result]]) -> Generator[Y | Together, Any, Digest]:
    """Drive the conversation with `send`: a step machine that answers one request (what it yields
    passes through, so a live transport yields its HTTP operations and the batch file yields the
    request it has no answer for yet). A step of one request is sent in line; a step of several
    is yielded as one `Together`. A `TakeawaysError` from `send` is the request's failure: its
    attempts are counted and the conversation handles it (context too long → chunks) or ends.
    An error that ends the conversation carries `.usage`: what the article spent before it."""
    steps = conv.run()

    def exchange(request: Request) -> Generator[Y, Any, Outcome]:
        try:
            return (yield from send(request))
        except TakeawaysError as exc:
            conv.add_usage(Usage(requests=getattr(exc, "attempts", 1)))
            return exc

    try:
        batch = next(steps)
        while True:
            if len(batch) == 1:
                outcomes = [(yield from exchange(batch[0]))]
            else:
                outcomes = yield Together([exchange(r) for r in batch])
            batch = steps.send(outcomes)
    except StopIteration as stop:
        digest: Digest = stop.value
        return digest
    except TakeawaysError as exc:
        exc.usage = conv.usage  # type: ignore[attr-defined]
        raise


__all__ = ["ENGINE_NAME", "Conversation", "Outcome", "Requests", "Result", "Step", "Steps", "Together", "converse",
           "together"]
