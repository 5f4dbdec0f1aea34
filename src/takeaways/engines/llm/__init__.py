"""LLM engine: any OpenAI-compatible chat endpoint through the `openai` package.

One request per article produces both blocks. The pieces, each written once:

- `requests`: building a request — prompts, structured-output mode and `response_format`, seed,
  max tokens — into the chat completion body (`body`), the same for every transport;
- `answers`: reading an answer — tolerant JSON extraction and validation, cut-off and refusal —
  as pure functions; `schema`: the answer's shape;
- `conversation`: the step machine of one article (re-ask after invalid output, one retry after
  `finish_reason: length`, --max-cost, chunks and merges for long articles): it yields requests
  and is sent results, and sends nothing itself;
- `transport`: sending live — one exchange per request (response_format probe, the one retry
  policy of retry.py), itself a step machine performed by a sync and an async driver;
  `engines/batchfile.py` is the batch-file transport (replays the same conversation from
  recorded answers, writes the same bodies);
- `estimate`: plans, cost estimates and the dry run; `chunks`: long articles in chunks;
  `failures`: server errors as ours, with the fix.
"""

from __future__ import annotations

from .answers import InvalidOutput, parse_output
from .chunks import chunk_budget, split_sections
from .engine import LLMEngine
from .estimate import Plan, dry_run, estimate_cost, plan
from .failures import map_error, rejects_format
from .requests import (
    MODES,
    OPENAI_BASE,
    Request,
    base_key,
    body,
    forget_modes,
    known_mode,
    language_name,
    merge_prompt,
    messages_tokens,
    neutralise,
    remember_mode,
    response_format,
    system_prompt,
    user_prompt,
)
from .schema import OUTPUT_SCHEMA, LLMOutput

__all__ = ["MODES", "OPENAI_BASE", "OUTPUT_SCHEMA", "InvalidOutput", "LLMEngine", "LLMOutput", "Plan", "Request",
           "base_key", "body", "chunk_budget", "dry_run", "estimate_cost", "forget_modes", "known_mode",
           "language_name", "map_error", "merge_prompt", "messages_tokens", "neutralise", "parse_output", "plan",
           "rejects_format", "remember_mode", "response_format", "split_sections", "system_prompt", "user_prompt"]
