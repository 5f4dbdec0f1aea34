"""Estimates: what the conversation would send for an article, before any request (dry run, --max-cost)."""

from __future__ import annotations

from dataclasses import dataclass

from ... import pricing, tokens
from ...config import Settings
from ...models import Article, Spec
from .chunks import chunk_budget, split_sections
from .requests import OPENAI_BASE, known_mode, messages, messages_tokens, system_prompt, user_prompt


@dataclass
class Plan:
    """What `generate` would send for an article, before any request."""

    system: str
    users: list[str]
    merge: bool
    prompt_tokens: int
    article_tokens: int
    max_output_tokens: int
    cost_usd: float
    mode: str


def plan(article: Article, spec: Spec, settings: Settings) -> Plan:
    s = settings
    mode = known_mode(s) or "json_schema"
    system = system_prompt(article, spec, s)
    single = user_prompt(article.text, s)
    article_tokens = tokens.count_tokens(article.text, s.model)
    pt = messages_tokens(messages(system, single), s.model, mode)
    if messages_tokens(messages(system, single), s.model, "json_schema") <= s.max_input_tokens:
        users, merge = [single], False
    else:
        chunks = split_sections(article, chunk_budget(system, s), s.model)
        users = [user_prompt(c, s, {"index": i, "total": len(chunks)}) for i, c in enumerate(chunks, 1)]
        merge = len(chunks) > 1
        pt = sum(messages_tokens(messages(system, u), s.model, mode) for u in users)
        if merge:  # the merge prompt holds at most every chunk's full answer
            pt += messages_tokens(messages(system, ""), s.model, mode) + len(users) * s.max_output_tokens
    calls = len(users) + int(merge)
    out = calls * s.max_output_tokens
    return Plan(system=system, users=users, merge=merge, prompt_tokens=pt, article_tokens=article_tokens,
                max_output_tokens=out, cost_usd=pricing.cost(s.model, pt, out, s.price_file), mode=mode)


def estimate_cost(article: Article, spec: Spec, settings: Settings) -> float:
    """Upper bound in USD of generating this article (every planned request at full output length,
    no retries); 0.0 when the model's price is unknown."""
    return plan(article, spec, settings).cost_usd


def dry_run(article: Article, spec: Spec, settings: Settings) -> str:
    """The rendered prompt(s), a token estimate and the estimated cost. Sends nothing."""
    p = plan(article, spec, settings)
    price = pricing.price_for(settings.model, settings.price_file)
    price_text = (f"${price['input']:g} in / ${price['output']:g} out per 1M tokens" if price
                  else "price unknown: counted as $0; add the model with --price-file")
    calls = f"{len(p.users)} chunk request(s) + 1 merge request" if p.merge else f"{len(p.users)} request"
    lines = [
        "# dry run: nothing was sent",
        f"engine: openai, model: {settings.model}, base URL: {settings.base_url or OPENAI_BASE}",
        f"structured output: {p.mode}" + ("" if known_mode(settings) else " (falls back to json_object, then text)"),
        f"requests: {calls} (--max-input-tokens {settings.max_input_tokens})",
        f"article tokens: {p.article_tokens} ({tokens.method(settings.model)})",
        f"prompt tokens (estimate): {p.prompt_tokens}; output tokens at most {p.max_output_tokens}",
        f"estimated cost: at most ${p.cost_usd:.6f} ({price_text})",
    ]
    if settings.max_cost is not None:
        verdict = "within" if p.cost_usd <= settings.max_cost else "OVER"
        lines.append(f"--max-cost ${settings.max_cost:g}: {verdict} budget")
    lines += ["", "--- system ---", p.system]
    for i, u in enumerate(p.users, 1):
        lines += ["", f"--- user{f' (chunk {i}/{len(p.users)})' if len(p.users) > 1 else ''} ---", u]
    if p.merge:
        lines += ["", "--- merge (merge.j2, rendered from the chunk answers) ---"]
    return "\n".join(lines) + "\n"


__all__ = ["Plan", "dry_run", "estimate_cost", "plan"]
