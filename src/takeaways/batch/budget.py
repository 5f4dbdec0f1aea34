"""The run-wide --max-cost budget, as every executor keeps it: reserve an estimate, settle with the cost."""

from __future__ import annotations

from dataclasses import dataclass


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
