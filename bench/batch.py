"""Batch benchmark: start-up, whole-process wall time against the ideal, retries, memory.

Every figure is reported against a baseline measured in the same run:

1. Start-up: `takeaways --version` and `takeaways batch --help` against `python -c pass`
   (medians of several runs).
2. Throughput: the article pages of ../shared/data/extraction-dev (html/<id>.html.gz) that pass
   the quality gate (-n N: that many, copies marked so their text differs) served on 127.0.0.1,
   a fake OpenAI-compatible LLM answering after L seconds (default 1), `takeaways batch -c C`
   (default 8). The wall time of the whole process (interpreter start-up included) against the
   ideal ceil(n / C) × L, n = the articles that needed an LLM call (goal: ideal / wall ≥ 0.85);
   where the rest went: Popen → first LLM request, last answer → process exit.
3. Requests per item on the happy path (1), and for an article the server always answers 500
   with --max-retries 2 (3).
4. Memory: peak RSS of the runner for 10k small JSONL items, next to 1k (goal: flat, < 300 MB).

    python bench/batch.py --data ../shared/data [-n N] [--latency 1] [-c 8] [--items 10000]
    python bench/batch.py --executor ray --data ../shared/data [-n 400] [...]   (runs bench/ray.py)
"""  # noqa: RUF002 - the multiplication sign is meant

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

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
    for i in range(n or len(base)):
        html, copy = base[i % len(base)], i // len(base)
        # A marker in every paragraph makes each copy's text distinct (no content dedup).
        pages.append(_LONG_P.sub(lambda m, copy=copy: f"{m.group(1)}Edition {copy}. {m.group(2)}", html) if copy else html)
    return pages


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


def startup(env: dict[str, str], runs: int = 7) -> None:
    def median(cmd: list[str]) -> float:
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    base = median([sys.executable, "-c", "pass"])
    version = median([sys.executable, "-m", "takeaways", "--version"])
    helps = median([sys.executable, "-m", "takeaways", "batch", "--help"])
    print(f"start-up (median of {runs}): python -c pass {base:.3f} s; takeaways --version {version:.3f} s "
          f"(+{version - base:.3f} s, x{version / base:.1f}); takeaways batch --help {helps:.3f} s (+{helps - base:.3f} s)"
          " (goal < 0.3 s)")


def throughput(pages: list[str], latency: float, conc: int, env: dict[str, str], tmp: Path) -> None:
    with Site() as site:
        for i, html in enumerate(pages):
            site.pages[f"/p/{i}.html"] = html.encode("utf-8")
        urls = tmp / "urls.txt"
        urls.write_text("\n".join(site.url(f"/p/{i}.html") for i in range(len(pages))) + "\n")
        common = [str(urls), "--quiet", "--no-cache", "-c", str(conc), "--per-host", str(conc * 2), "-f", "md"]
        with FakeLLM(default=lambda req: Reply(content=json.dumps(grounded(req)), delay=latency)) as llm:
            started = time.time()
            wall, _, _, rep = run_batch([*common, "--out", str(tmp / "llm"), "-e", "openai", "--base-url", llm.url,
                                         "--api-key", "x", "--max-retries", "0"], env, measure=False)
            ended = started + wall
            times = sorted(llm.times)
    n = rep["done"] - rep["this_run"]["from_cache"]
    ideal = math.ceil(n / conc) * latency
    requests = len(times)
    print(f"throughput: {len(pages)} pages, fake LLM latency {latency:g} s, concurrency {conc}, {os.cpu_count()} cores")
    print(f"  {rep['done']} done, {rep['skipped']} skipped, {rep['failed']} failed; {requests} LLM requests "
          f"({requests / max(n, 1):.2f} per article that needed one)")
    for g in rep["skips"] + rep["failures"]:
        print(f"    {g['count']}x {g['reason']}")
    base = baseline(n, latency, conc, env)
    print(f"  wall {wall:.2f} s (whole process) vs ideal ceil({n}/{conc}) x {latency:g} = {ideal:.2f} s "
          f"-> ideal/wall {ideal / wall:.2f} (goal >= 0.85)")
    print(f"  same-run baseline: a bare Python process sending the same {n} requests at concurrency {conc} "
          f"takes {base:.2f} s -> baseline/wall {base / wall:.2f}")
    if times:
        first, last = times[0][0] - started, ended - max(t[1] for t in times)
        span = max(t[1] for t in times) - times[0][0]
        print(f"  Popen -> first LLM request {first:.2f} s; LLM span {span:.2f} s (ideal {ideal:.2f}); "
              f"last answer -> process exit {last:.2f} s; runner's own clock {rep['wall_time_s']:.2f} s")


BASELINE = """
import json, sys, threading, urllib.request
url, n, c = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "<article>x</article>"}]}).encode()
def worker(k):
    for _ in range(k):
        urllib.request.urlopen(urllib.request.Request(url + "/chat/completions", body,
                                                      {"Content-Type": "application/json"})).read()
threads = [threading.Thread(target=worker, args=(n // c + (i < n % c),)) for i in range(c)]
[t.start() for t in threads]; [t.join() for t in threads]
"""


def baseline(n: int, latency: float, conc: int, env: dict[str, str]) -> float:
    """The same n LLM requests at concurrency C from a bare Python process: what this machine can do now."""
    with FakeLLM(default=lambda req: Reply(content="{}", delay=latency)) as llm:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", BASELINE, llm.url, str(n), str(conc)], env=env, check=True)
        return time.perf_counter() - start


def always_failing(page: str, env: dict[str, str], tmp: Path) -> None:
    with Site() as site, FakeLLM(default=lambda req: Reply(status=500)) as llm:
        site.pages["/fail.html"] = page.encode("utf-8")
        _, _, _, rep = run_batch([site.url("/fail.html"), "--out", str(tmp / "fail"), "--quiet", "--no-cache",
                                  "-e", "openai", "--base-url", llm.url, "--api-key", "x", "--max-retries", "2",
                                  "--retry-wait", "0.05"], env, measure=False)
        print(f"always-500 article with --max-retries 2: {len(llm.requests)} LLM requests (goal 3); "
              f"{rep['failed']} failed: {rep['failures'][0]['reason'] if rep['failures'] else '-'}")


def write_items(path: Path, n: int) -> Path:
    """N small distinct {"text"} JSONL items (the memory runs: the engine's work per item is small)."""
    with path.open("w") as fh:
        for i in range(n):
            text = (f"Report {i}\n\n" + " ".join(f"Item {i} sentence {j} says the town council met and agreed on "
                                                 f"budget line {i * 7 + j} today." for j in range(12)))
            fh.write(json.dumps({"text": text}) + "\n")
    return path


def memory(items: int, env: dict[str, str], tmp: Path) -> None:
    peaks = []
    for n in sorted({max(items // 10, 1), items}):
        src = write_items(tmp / f"items-{n}.jsonl", n)
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
    ap.add_argument("-n", type=int, default=0, help="pages for the throughput run (0: every page that passes)")
    ap.add_argument("--latency", type=float, default=1.0, help="fake LLM latency, seconds")
    ap.add_argument("-c", "--concurrency", type=int, default=8)
    ap.add_argument("--items", type=int, default=10_000, help="JSONL items for the memory run (0: skip)")
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--executor", choices=["local", "ray"], default="local",
                    help="ray: the Ray benchmark (bench/ray.py) on the same setup: the local executor and the "
                         "Ray executor on a two-node Ray cluster on this machine, their throughput ratio, Ray's "
                         "start-up, the driver's peak RSS over --items JSONL items (-n 0 means 400 pages there)")
    ap.add_argument("--nodes", type=int, default=2, help="with --executor ray: Ray nodes of one CPU each")
    args = ap.parse_args()
    if args.executor == "ray":
        return subprocess.call([sys.executable, str(ROOT / "bench" / "ray.py"), "--data", str(args.data),
                                "-n", str(args.n or 400), "--latency", str(args.latency), "-c", str(args.concurrency),
                                "--nodes", str(args.nodes), "--items", str(args.items)])
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
               "XDG_CACHE_HOME": str(tmp / "cache"), "NO_PROXY": "127.0.0.1,localhost"}
        for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "TAKEAWAYS_ENGINE", "TAKEAWAYS_MODEL"):
            env.pop(name, None)
        # The decompressed language model lives in the user cache from a user's first run on
        # (src/takeaways/langid.py): keep it across the runs measured here, as on their machine.
        env["TAKEAWAYS_LANGID_CACHE"] = str(tmp / "langid")
        subprocess.run([sys.executable, "-c", "from takeaways import langid; langid.warm_up()"], env=env, check=True)
        startup(env)
        if not args.skip_throughput:
            if not (args.data / "extraction-dev" / "html").is_dir():
                print(f"no {args.data}/extraction-dev/html; pass --data", file=sys.stderr)
                return 2
            pages = load_pages(args.data, args.n)
            throughput(pages, args.latency, args.concurrency, env, tmp)
            always_failing(pages[0], env, tmp)
        if args.items:
            memory(args.items, env, tmp)
    return 0


if __name__ == "__main__":
    threading.excepthook = lambda a: None  # quiet server threads on shutdown
    sys.exit(main())
