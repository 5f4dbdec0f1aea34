"""The run-wide --max-cost budget, as every executor keeps it: reserve an estimate, settle with the cost."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Budget:
    """A request is sent only if what is spent, what requests in flight may still cost and its own
    estimate fit in `limit` (None: no limit). Once one does not fit, `reached` stays True."""

    limit: float | None
    spent: float = 0.0
    reserved: float = 0.0
    reached: bool = False

    def reserve(self, estimate: float) -> bool:
        if self.limit is not None and self.spent + self.reserved + estimate > self.limit:
            self.reached = True
            return False
        self.reserved += estimate
        return True

    def settle(self, estimate: float, actual: float) -> None:
        self.reserved -= estimate
        self.spent += actual


def estimate_cost(article: Any, spec: Any, settings: Any) -> float:
    """The most an article's LLM requests can cost, to reserve before sending (inf: more than
    --max-cost allows for one article on its own)."""
    from ..engines import llm
    from ..errors import BudgetExceeded

    try:
        return float(llm.estimate_cost(article, spec, settings))
    except BudgetExceeded:
        return float("inf")
