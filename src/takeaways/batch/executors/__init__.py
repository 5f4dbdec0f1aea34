"""The executor seam: an executor takes pending work items and yields their outcomes.

    inputs ──► journal.pending() ──► executor.run(items) ──► outcomes ──► journal.commit()

The contract (docs/batch.md, "Executors"):

- `make(ctx)` builds the executor; heavy set-up (process pools, cluster connections) goes there.
  The runner calls it before it expands the inputs and starts its progress display, so set-up
  can overlap with that (start it in a thread) but the process is still single-threaded.
- `run(items)` is a generator (sync) or an async generator; it pulls items lazily and yields one
  `Outcome` per item it finished, in any order. An item it never yields (the budget ran out,
  Ctrl-C) stays pending for the next run. A second outcome for the same key is ignored.
- It never writes state, results or files: the runner commits each yielded outcome through the
  journal. Before spending an LLM call it asks `ctx.lookup(item, article)` (duplicate text,
  cache hit), which may be called from any thread.
- A setup problem that would fail every item the same way (no API key) is stored in
  `status.fatal` and ends the run; the items stay pending.
- `close()` releases what `make` took; it is called once, also after an error.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from ...errors import ConfigError, TakeawaysError

if TYPE_CHECKING:  # this module stays light: the CLI reads the registry's names from it
    from ...config import Settings
    from ...models import Article
    from ..options import BatchOptions
    from ..progress import Progress
    from ..work import Outcome, WorkItem

Lookup = Callable[["WorkItem", "Article"], "Outcome | None"]

# name → (module, factory, what to install when the module's own imports fail)
EXECUTORS: dict[str, tuple[str, str, str]] = {
    "local": ("takeaways.batch.executors.local", "make", ""),
    "batch-api": ("takeaways.batch.executors.batchapi", "make", ""),
    "ray": ("takeaways.batch.executors.ray", "make", "pip install 'takeaways[ray]'"),
}


@dataclass
class Status:
    """What an executor tells the runner beyond its outcomes (for the report and the exit code)."""

    interrupted: bool = False  # Ctrl-C / SIGTERM: in-flight items were cancelled
    budget_reached: bool = False  # --max-cost: items left pending
    fatal: TakeawaysError | None = None  # a setup error: the run stops, items stay pending
    info: dict[str, object] = field(default_factory=dict)  # executor-specific figures for the report


@dataclass(frozen=True)
class Context:
    options: BatchOptions
    settings: Settings
    lookup: Lookup
    total: int = 0  # items listed so far (0 for the live run: inputs are streamed while executors run)
    progress: Progress | None = None  # the run's progress display (started after `make`, stopped after `run`)


class Executor(Protocol):
    status: Status

    def run(self, items: Iterable[WorkItem]) -> Iterator[Outcome] | AsyncIterator[Outcome]: ...

    def close(self) -> None: ...


def names() -> list[str]:
    return list(EXECUTORS)


def load(name: str) -> Callable[[Context], Executor]:
    """The factory of the executor called `name`; a clear ConfigError when it is unknown or not installed."""
    if name not in EXECUTORS:
        raise ConfigError(f"unknown executor {name!r}; choose from {', '.join(EXECUTORS)}")
    module, factory, hint = EXECUTORS[name]
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            raise ConfigError(f"--executor {name} is not available in this version of takeaways; "
                              f"choose from the ones that are: local") from exc
        raise ConfigError(f"--executor {name} needs {exc.name}: {hint or 'install it'}") from exc
    build: Callable[[Context], Executor] = getattr(mod, factory)
    return build


def make(name: str, ctx: Context) -> Executor:
    return load(name)(ctx)
