"""Per-model prices and cost arithmetic.

Prices are USD per 1 million tokens, `{"model": {"input": 0.15, "output": 0.60}}`. The built-in
table holds list prices of common models (as published in 2025; they change, so pass
`--price-file prices.json` in that format to override or extend it). A model matches its exact
name, else the longest table key it starts with (`gpt-4o-mini-2024-07-18` → `gpt-4o-mini`).
Unknown models (most local ones) cost 0.0, so `--max-cost` never blocks them.

Batch prices (the provider Batch API, `takeaways batch --batch-api`): 50 % of the live price for
every built-in model, as OpenAI charges; a price file may give its own per model,
`{"my-model": {"input": 0.15, "output": 0.6, "batch": {"input": 0.075, "output": 0.3}}}`.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import ConfigError

BATCH_DISCOUNT = 0.5  # the Batch API's price relative to live requests (OpenAI, Azure global batch)

BUILTIN_PRICES: dict[str, dict[str, float]] = {
    "gpt-4o-mini": {"input": 0.15, "output": 0.60},
    "gpt-4o": {"input": 2.50, "output": 10.00},
    "gpt-4.1": {"input": 2.00, "output": 8.00},
    "gpt-4.1-mini": {"input": 0.40, "output": 1.60},
    "gpt-4.1-nano": {"input": 0.10, "output": 0.40},
    "gpt-5": {"input": 1.25, "output": 10.00},
    "gpt-5-mini": {"input": 0.25, "output": 2.00},
    "gpt-5-nano": {"input": 0.05, "output": 0.40},
    "o3-mini": {"input": 1.10, "output": 4.40},
    "o4-mini": {"input": 1.10, "output": 4.40},
    "gpt-3.5-turbo": {"input": 0.50, "output": 1.50},
    "deepseek-chat": {"input": 0.27, "output": 1.10},
    "deepseek-reasoner": {"input": 0.55, "output": 2.19},
}


@lru_cache(maxsize=16)
def _load_file(path: str) -> dict[str, dict[str, float]]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--price-file {path}: {exc}; expected JSON like "
                          '{"my-model": {"input": 0.15, "output": 0.6}} (USD per 1M tokens)') from exc
    def prices(v: Any) -> bool:
        return isinstance(v, dict) and all(isinstance(v.get(k), int | float) for k in ("input", "output"))

    ok = isinstance(data, dict) and all(prices(v) and ("batch" not in v or prices(v["batch"])) for v in data.values())
    if not ok:
        raise ConfigError(f"--price-file {path}: every entry needs numeric input and output prices, e.g. "
                          '{"my-model": {"input": 0.15, "output": 0.6}} (USD per 1M tokens), optionally a batch '
                          'price: "batch": {"input": 0.075, "output": 0.3}')
    table: dict[str, dict[str, float]] = {}
    for k, v in data.items():
        entry = {"input": float(v["input"]), "output": float(v["output"])}
        if "batch" in v:
            entry |= {"batch_input": float(v["batch"]["input"]), "batch_output": float(v["batch"]["output"])}
        table[str(k)] = entry
    return table


def price_table(price_file: Path | str | None = None) -> dict[str, dict[str, float]]:
    table = dict(BUILTIN_PRICES)
    if price_file is not None:
        table.update(_load_file(str(price_file)))
    return table


def price_for(model: str, price_file: Path | str | None = None, *, batch: bool = False) -> dict[str, float] | None:
    """The model's prices (USD per 1M tokens, `input` and `output`), or None when unknown.
    `batch`: the Batch API price (the price file's `batch` entry, else 50 % of live)."""
    table = price_table(price_file)
    if model in table:
        entry = table[model]
    else:
        keys = [k for k in table if model.startswith(k)]
        if not keys:
            return None
        entry = table[max(keys, key=len)]
    if not batch:
        return {"input": entry["input"], "output": entry["output"]}
    if "batch_input" in entry:
        return {"input": entry["batch_input"], "output": entry["batch_output"]}
    return {"input": entry["input"] * BATCH_DISCOUNT, "output": entry["output"] * BATCH_DISCOUNT}


def cost(model: str, prompt_tokens: int, completion_tokens: int, price_file: Path | str | None = None, *,
         batch: bool = False) -> float:
    """USD for the given token counts (at the Batch API price with `batch`); 0.0 for an unknown model."""
    price = price_for(model, price_file, batch=batch)
    if price is None:
        return 0.0
    return round((prompt_tokens * price["input"] + completion_tokens * price["output"]) / 1_000_000, 8)


__all__ = ["BATCH_DISCOUNT", "BUILTIN_PRICES", "cost", "price_for", "price_table"]
