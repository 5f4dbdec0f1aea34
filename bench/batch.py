"""Batch throughput and memory benchmark.

1. Throughput: N article pages from ../shared/data/extraction-dev (html/<id>.html.gz) served on
   127.0.0.1, a fake OpenAI-compatible LLM answering after L seconds, `takeaways batch -c C`.
   articles/s is compared with the ideal min(C / L, bare-trafilatura pages/s × cores), the
   bare rate measured in this same run (goal: ratio ≥ 0.85).
2. Memory: peak RSS (runner + extraction processes) for 10k small JSONL items, next to the
   peak for 1k items (goal: flat, < 300 MB).

    python bench/batch.py --data ../shared/data [-n 300] [--latency 0.5] [-c 8] [--items 10000]

Without the LLM engine (takeaways.engines.llm) the throughput part runs the extractive engine,
so its ideal is the extraction rate alone; the output says which.
"""  # noqa: RUF002 - the multiplication sign is meant

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import trafilatura

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from takeaways.extraction import check_quality, extract_html  # noqa: E402
from tests.fakellm import FakeLLM, Reply, grounded  # noqa: E402
from tests.site import Site  # noqa: E402

_LONG_P = re.compile(r"(<p[^>]*>)([^<]{40,})", re.I)


def load_pages(data: Path, n: int) -> list[str]:
    """N distinct article pages: the dataset's pages that pass the quality gate, then marked copies of them."""
    base = []
    for path in sorted((data / "extraction-dev" / "html").glob("*.html.gz")):
        html = gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
        try:
            check_quality(extract_html(html), path.name, 120)
        except Exception:  # pages that are no article are simply left out
            continue
        if _LONG_P.search(html):
            base.append(html)
    pages = []
    for i in range(n):
        html, copy = base[i % len(base)], i // len(base)
        # A marker in every paragraph makes each copy's text distinct (no content dedup).
        pages.append(_LONG_P.sub(lambda m, copy=copy: f"{m.group(1)}Edition {copy}. {m.group(2)}", html) if copy else html)
    return pages


def bare_rate(pages: list[str], seconds: float = 8.0) -> float:
    """Pages/s of bare trafilatura extraction in one process."""
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds and done < len(pages):
        trafilatura.bare_extraction(pages[done], with_metadata=True, include_comments=False, include_tables=True,
                                    deduplicate=False)
        done += 1
    return done / (time.perf_counter() - start)


def engine_available() -> bool:
    try:
        import takeaways.engines.llm  # noqa: F401
    except ImportError:
        return False
    return True


def run_batch(args: list[str], env: dict[str, str], measure: bool = True) -> tuple[float, int, int, dict]:
    """Run `takeaways batch` in a subprocess: (wall s, peak PSS of its process tree, peak RSS of the runner, report).

    PSS (proportional set size) counts a page shared by the forked extraction processes once;
    the sum of their RSS would count it once per process.
    """
    proc = subprocess.Popen([sys.executable, "-m", "takeaways", "batch", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ps = psutil.Process(proc.pid)
    peak_tree = peak_main = 0
    start = time.perf_counter()
    while proc.poll() is None:
        if not measure:  # reading smaps costs CPU the run under test would miss
            time.sleep(0.05)
            continue
        try:
            main = ps.memory_info().rss
            tree = sum(p.memory_full_info().pss for p in [ps, *ps.children(recursive=True)])
        except psutil.Error:
            continue
        peak_main, peak_tree = max(peak_main, main), max(peak_tree, tree)
        time.sleep(0.25)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode() if proc.stderr else ""
    out = Path(args[args.index("--out") + 1])
    if not (out / "report.json").exists():
        raise SystemExit(f"batch failed (rc {proc.returncode}): {err[-2000:]}")
    return wall, peak_tree, peak_main, json.loads((out / "report.json").read_text())


def throughput(pages: list[str], latency: float, conc: int, cores: int, env: dict[str, str], tmp: Path) -> None:
    with Site() as site:
        for i, html in enumerate(pages):
            site.pages[f"/p/{i}.html"] = html.encode("utf-8")
        urls = tmp / "urls.txt"
        urls.write_text("\n".join(site.url(f"/p/{i}.html") for i in range(len(pages))) + "\n")
        common = [str(urls), "--quiet", "--no-cache", "-c", str(conc), "--per-host", str(conc * 2), "-f", "md"]
        rate1 = bare_rate(pages)
        if engine_available():
            with FakeLLM(default=lambda req: Reply(content=json.dumps(grounded(req)), delay=latency)) as llm:
                wall, _, _, rep = run_batch([*common, "--out", str(tmp / "llm"), "-e", "openai", "--base-url", llm.url,
                                             "--api-key", "x", "--max-retries", "0"], env, measure=False)
                requests = len(llm.requests)
            engine = f"openai engine, fake LLM latency {latency:g} s"
            ideal = min(conc / latency, rate1 * cores)
        else:
            wall, _, _, rep = run_batch([*common, "--out", str(tmp / "ext"), "-e", "extractive"], env, measure=False)
            requests, engine, ideal = 0, "extractive engine (LLM engine not available: no latency)", rate1 * cores
    done = rep["done"]
    rate = rep["this_run"]["finished"] / wall
    print(f"throughput: {len(pages)} pages, {engine}, concurrency {conc}, {cores} cores")
    print(f"  bare trafilatura: {rate1:.1f} pages/s/core -> x{cores} = {rate1 * cores:.1f} pages/s"
          + (f"; C/L = {conc / latency:.1f}/s" if engine.startswith("openai") else ""))
    print(f"  batch: {done} done, {rep['skipped']} skipped, {rep['failed']} failed, {requests} LLM requests "
          f"in {wall:.1f} s wall (process start included) = {rate:.2f} articles/s")
    for g in rep["skips"] + rep["failures"]:
        print(f"    {g['count']}x {g['reason']}")
    steady = rep["this_run"]["finished"] / rep["wall_time_s"]
    print(f"  ideal {ideal:.2f}/s -> ratio {rate / ideal:.2f} (goal >= 0.85); by the runner's own clock "
          f"(interpreter start excluded) {steady:.2f}/s -> {steady / ideal:.2f}")


def memory(items: int, env: dict[str, str], tmp: Path) -> None:
    peaks = []
    for n in sorted({max(items // 10, 1), items}):
        src = tmp / f"items-{n}.jsonl"
        with src.open("w") as fh:
            for i in range(n):
                text = (f"Report {i}\n\n" + " ".join(f"Item {i} sentence {j} says the town council met and agreed on "
                                                     f"budget line {i * 7 + j} today." for j in range(12)))
                fh.write(json.dumps({"text": text}) + "\n")
        wall, tree, main, rep = run_batch([str(src), "--out", str(tmp / f"mem-{n}"), "--quiet", "--no-cache",
                                           "-e", "extractive", "--min-words", "0", "-f", "md"], env)
        peaks.append((n, tree, main))
        print(f"memory: {n} JSONL items: {rep['done']} done in {wall:.1f} s ({rep['done'] / wall:.0f}/s); "
              f"peak RSS of the runner {main / 1e6:.0f} MB; peak PSS of runner + extraction processes {tree / 1e6:.0f} MB")
    if len(peaks) == 2:
        print(f"  growth from {peaks[0][0]} to {peaks[1][0]} items: runner {(peaks[1][2] - peaks[0][2]) / 1e6:+.0f} MB "
              f"(goal flat, total < 300 MB)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("-n", type=int, default=300, help="pages for the throughput run")
    ap.add_argument("--latency", type=float, default=0.5, help="fake LLM latency, seconds")
    ap.add_argument("-c", "--concurrency", type=int, default=8)
    ap.add_argument("--items", type=int, default=10_000, help="JSONL items for the memory run (0: skip)")
    ap.add_argument("--skip-throughput", action="store_true")
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
               "XDG_CACHE_HOME": str(tmp / "cache"), "NO_PROXY": "127.0.0.1,localhost"}
        for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "TAKEAWAYS_ENGINE", "TAKEAWAYS_MODEL"):
            env.pop(name, None)
        if not args.skip_throughput:
            if not (args.data / "extraction-dev" / "html").is_dir():
                print(f"no {args.data}/extraction-dev/html; pass --data", file=sys.stderr)
                return 2
            throughput(load_pages(args.data, args.n), args.latency, args.concurrency, cores, env, tmp)
        if args.items:
            memory(args.items, env, tmp)
    return 0


if __name__ == "__main__":
    threading.excepthook = lambda a: None  # quiet server threads on shutdown
    sys.exit(main())
