"""One frozen options object for a batch run (the CLI fills it; executors read it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

STATE_DIR = ".takeaways"
RESULTS = "results.jsonl"
REPORT = "report.json"


@dataclass(frozen=True)
class BatchOptions:
    """What the batch job adds to Settings: where to write, how to run, how hard to push, what to resume."""

    out: Path
    formats: tuple[str, ...] = ("md",)
    executor: str = "local"  # a name in batch.executors.EXECUTORS
    ray_address: str | None = None  # --executor ray: the cluster to join (None: a local Ray on this machine)
    parquet: bool = False  # --format parquet: also write DIR/results.parquet at the end of the run
    concurrency: int = 8
    per_host: int = 2
    rpm: int | None = None
    tpm: int | None = None
    max_cost: float | None = None
    retry_failed: bool = False
    limit: int | None = None
    dry_run: bool = False
    progress: str = "auto"  # auto (bar on a TTY, else lines) | bar | lines | none
    progress_interval: float = 10.0
    cache_dir: Path | None = None  # None: the user cache dir
    use_cache: bool = True
    workers: int | None = None  # extraction processes; None: one per CPU; 0: threads in this process
    # --batch-api (executor batch-api)
    wait: bool = False  # poll until every item is over, instead of submitting and returning
    poll_interval: float = 10.0  # first wait between polls with --wait (grows to 5 min)
    batch_max_requests: int = 50_000  # per request file (OpenAI's limit)
    batch_max_bytes: int = 200_000_000  # per request file (OpenAI's limit)
    batch_endpoint: str = "/v1/chat/completions"  # each line's url and the job's endpoint (Azure: /chat/completions)
    export_requests: Path | None = None  # write the request file there and send nothing
    import_results: Path | None = None  # commit the answers in that result file, send nothing

    def resolved_cache_dir(self) -> Path:
        from platformdirs import user_cache_dir

        return self.cache_dir or Path(user_cache_dir("takeaways"))
