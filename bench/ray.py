"""The batch job on a two-node Ray cluster on this machine, against the local executor in the same run.

Runs itself inside a private network and PID namespace (`unshare -n -p -f --mount-proc`, then
`ip link set lo up`): there Ray binds to 127.0.0.1, and every Ray process it started ends with
the namespace, so nothing is left behind and no other Ray on the machine is touched (never
`ray stop` outside one). Needs root (CI and these machines run as root) and util-linux unshare.

1. N article pages (../shared/data/extraction-dev, or generated pages with --synthetic) served
   on 127.0.0.1, a fake OpenAI-compatible LLM answering after L seconds.
2. The local executor: `takeaways batch -c C` in a subprocess; items/s by the runner's clock.
3. A Ray cluster: `ray start --head --num-cpus=1` plus NODES-1 `ray start --address` nodes of one
   CPU each; its start-up time.
4. `takeaways batch --executor ray --ray-address 127.0.0.1:P` over the same items (the driver keeps
   the journal; fetch + extract as 1-CPU tasks, generate in the async actor pool under the global
   limiter): items/s, rows per node from the report, peak driver RSS, the ratio Ray / local.

    python bench/ray.py [--data ../shared/data | --synthetic] [-n 400] [--latency 0.5] [-c 8] [--nodes 2] [--items 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# This file is bench/ray.py: its own directory must not shadow the ray package.
sys.path[:] = [str(ROOT / "src"), str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench")]

INSIDE = "TAKEAWAYS_BENCH_NAMESPACE"
PORT = 6390


def bench_batch() -> Any:
    """bench/batch.py, the local benchmark: the same pages and the same way of running the CLI."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_batch", ROOT / "bench" / "batch.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reexec_in_namespace() -> int:
    """Run this script again as PID 1 of a fresh network + PID namespace."""
    unshare = shutil.which("unshare")
    if unshare is None or os.geteuid() != 0:
        print("bench/ray.py needs root and util-linux unshare (it runs Ray in a private network namespace)",
              file=sys.stderr)
        return 2
    env = {**os.environ, INSIDE: "1"}
    return subprocess.call([unshare, "-n", "-p", "-f", "--mount-proc", sys.executable, str(Path(__file__).resolve()), *sys.argv[1:]], env=env)


def pages_for(args: argparse.Namespace) -> tuple[list[str], str]:
    if not args.synthetic:
        return bench_batch().load_pages(args.data, args.n), f"{args.data}/extraction-dev pages"
    from tests.site import article_html

    return [article_html(i) for i in range(args.n)], "generated pages (tests.site.article_html)"


def local_run(urls: Path, llm_url: str, conc: int, env: dict[str, str], out: Path) -> dict[str, Any]:
    """The local executor in a subprocess; (wall s, report)."""
    args = [str(urls), "--out", str(out), "--quiet", "--no-cache", "-c", str(conc), "--per-host", str(conc * 2),
            "-f", "md", "-e", "openai", "--base-url", llm_url, "--api-key", "x", "--max-retries", "0"]
    wall, _, _, report = bench_batch().run_batch(args, env, measure=False)
    return {"wall_s": wall, "runner_s": report["wall_time_s"], "done": report["done"],
            "finished": report["this_run"]["finished"], "report": report}


def start_cluster(nodes: int, tmp: Path, env: dict[str, str]) -> float:
    """Head plus nodes-1 workers, one CPU each, all on 127.0.0.1; returns the start-up seconds."""
    ray_bin = str(Path(sys.executable).with_name("ray"))
    started = time.perf_counter()
    common = ["--node-ip-address=127.0.0.1", "--num-cpus=1", "--disable-usage-stats"]
    subprocess.run([ray_bin, "start", "--head", f"--port={PORT}", f"--temp-dir={tmp / 'ray'}",
                    "--include-dashboard=false", *common], env=env, check=True, capture_output=True)
    for _ in range(nodes - 1):
        subprocess.run([ray_bin, "start", f"--address=127.0.0.1:{PORT}", *common], env=env, check=True,
                       capture_output=True)
    return time.perf_counter() - started


def ray_run(urls: Path, llm_url: str, conc: int, nodes: int, env: dict[str, str], out: Path) -> dict[str, Any]:
    """`takeaways batch --executor ray --ray-address` in a subprocess (the driver keeps the journal)."""
    import ray

    ray.init(address=f"127.0.0.1:{PORT}", log_to_driver=False, logging_level="warning")
    try:
        while len([n for n in ray.nodes() if n.get("Alive")]) < nodes:  # the last node may still be registering
            time.sleep(0.2)
    finally:
        ray.shutdown()
    args = [str(urls), "--out", str(out), "--quiet", "--no-cache", "-c", str(conc), "-f", "md", "-e", "openai",
            "--base-url", llm_url, "--api-key", "x", "--max-retries", "0",
            "--executor", "ray", "--ray-address", f"127.0.0.1:{PORT}"]
    wall, _, peak, report = bench_batch().run_batch(args, env, measure=True)
    return {"wall_s": wall, "runner_s": report["wall_time_s"], "finished": report["this_run"]["finished"],
            "report": report, "info": report["executor_info"], "peak_rss": peak}


def kill_node_run(urls: Path, llm_url: str, conc: int, env: dict[str, str], out: Path, total: int) -> None:
    """The Ray executor again, and the raylet of the node the driver is not on killed (SIGKILL) once a quarter of the
    items is committed: Ray re-runs its tasks elsewhere, a generate actor that lived there is
    replaced; every item must still be committed exactly once."""
    import psutil
    import ray

    killed: dict[str, Any] = {}

    def killer() -> None:
        """The node that is not the driver's (where the run's coordinator lives) dies."""
        from ray._private.state import actors

        path = out / "results.jsonl"
        while not (path.exists() and path.read_bytes().count(b"\n") >= total // 4):
            time.sleep(0.05)
        ray.init(address=f"127.0.0.1:{PORT}", log_to_driver=False, logging_level="warning")
        try:
            table = actors().values()
            driver = next(a["Address"]["NodeID"] for a in table
                          if a["ActorClassName"].endswith("Coordinator") and a["State"] == "ALIVE")
            killed["actors there"] = sum(1 for a in table if a["State"] == "ALIVE" and a["Address"]["NodeID"] != driver
                                         and a["ActorClassName"].endswith("Generate"))
            socket = next(n["RayletSocketName"] for n in ray.nodes() if n.get("Alive") and n["NodeID"] != driver)
        finally:
            ray.shutdown()
        victim = next(p for p in psutil.process_iter(["cmdline"])
                      if any(c.endswith("raylet") for c in (p.info["cmdline"] or [])[:1])
                      and any(c == f"--raylet_socket_name={socket}" for c in p.info["cmdline"] or []))
        victim.kill()
        killed["at"] = time.monotonic()

    threading.Thread(target=killer, daemon=True).start()
    args = [str(urls), "--out", str(out), "--quiet", "--no-cache", "-c", str(conc), "-f", "md", "-e", "openai",
            "--base-url", llm_url, "--api-key", "x", "--max-retries", "0",
            "--executor", "ray", "--ray-address", f"127.0.0.1:{PORT}"]
    wall, _, _, rep = bench_batch().run_batch(args, env, measure=False)
    lines = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    keys = [x["key"] for x in lines]
    print(f"  node death: the raylet of the node without the driver killed after {total // 4} of {total} items "
          f"({'yes' if killed else 'NOT killed'}; generate actors there: {killed.get('actors there')}): {rep['done']} done, {rep['failed']} failed, {rep['pending']} pending "
          f"in {wall:.1f} s; results.jsonl {len(keys)} lines for {len(set(keys))} keys; duplicates dropped "
          f"{rep['executor_info'].get('duplicates_dropped')}, generate actors replaced "
          f"{rep['executor_info'].get('actors_replaced')}; {rep['executor_info']['summary']}")


def memory(items: int, env: dict[str, str], tmp: Path) -> None:
    """Peak RSS of the Ray driver (the runner with the journal) over `items` small JSONL items, extractive engine."""
    src = bench_batch().write_items(tmp / f"items-{items}.jsonl", items)
    args = [str(src), "--out", str(tmp / f"mem-{items}"), "--quiet", "--no-cache", "-e", "extractive", "--min-words",
            "0", "-f", "md", "--executor", "ray", "--ray-address", f"127.0.0.1:{PORT}"]
    wall, _, peak, rep = bench_batch().run_batch(args, env, measure=True)
    print(f"  memory: {items} JSONL items through ray, extractive engine: {rep['done']} done in {wall:.1f} s "
          f"({rep['done'] / wall:.0f}/s); peak RSS of the driver {peak / 1e6:.0f} MB; "
          f"{rep['executor_info']['summary']}")


def bench(args: argparse.Namespace) -> int:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    from tests.fakellm import FakeLLM, Reply, grounded
    from tests.site import Site

    pages, what = pages_for(args)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
               "XDG_CACHE_HOME": str(tmp / "cache"), "NO_PROXY": "127.0.0.1,localhost",
               # Inside the namespace nothing but loopback is reachable: no token to share between nodes.
               "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
        for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "TAKEAWAYS_ENGINE", "TAKEAWAYS_MODEL"):
            env.pop(name, None)
        os.environ.update({k: env[k] for k in ("RAY_AUTH_MODE", "RAY_USAGE_STATS_ENABLED", "NO_PROXY")})
        with Site() as site, FakeLLM(default=lambda req: Reply(content=json.dumps(grounded(req)),
                                                               delay=args.latency)) as llm:
            for i, html in enumerate(pages):
                site.pages[f"/p/{i}.html"] = html.encode("utf-8")
            urls = tmp / "urls.txt"
            urls.write_text("\n".join(site.url(f"/p/{i}.html") for i in range(len(pages))) + "\n")
            local = local_run(urls, llm.url, args.concurrency, env, tmp / "local")
            local_requests = len(llm.requests)
            startup = start_cluster(args.nodes, tmp, env)
            ray_ = ray_run(urls, llm.url, args.concurrency, args.nodes, env, tmp / "ray")
            ray_requests = len(llm.requests) - local_requests
            if args.kill_node and args.nodes > 1:
                kill_node_run(urls, llm.url, args.concurrency, env, tmp / "ray-kill", len(pages))
        report_throughput(args, pages, what, local, local_requests, startup, ray_, ray_requests)
        if args.items:
            memory(args.items, env, tmp)
    return 0 if ray_["info"]["nodes_used"] >= args.nodes else 1


def report_throughput(args: argparse.Namespace, pages: list[str], what: str, local: dict[str, Any],
                      local_requests: int, startup: float, ray_: dict[str, Any], ray_requests: int) -> None:
    local_rate = local["finished"] / local["runner_s"]
    ray_rate = ray_["finished"] / ray_["runner_s"]
    info, rep = ray_["info"], ray_["report"]
    print(f"ray bench: {len(pages)} {what}, fake LLM latency {args.latency:g} s, concurrency {args.concurrency}, "
          f"{os.cpu_count()} cores on this machine")
    print(f"  local executor: {local['done']} done of {local['finished']} in {local['runner_s']:.1f} s "
          f"(runner's clock; {local['wall_s']:.1f} s with interpreter start) = {local_rate:.2f} items/s, "
          f"{local_requests} LLM requests")
    print(f"  ray cluster: start-up {startup:.1f} s (ray start x{args.nodes}); the driver joined in {info['start_s']:.1f} s, "
          f"first outcome after {info.get('first_outcome_s')} s of pipeline start-up (actors importing, first blocks)")
    print(f"  ray executor: {rep['done']} done of {ray_['finished']} in {ray_['runner_s']:.1f} s (runner's clock; "
          f"{ray_['wall_s']:.1f} s with interpreter start) = {ray_rate:.2f} items/s, {ray_requests} LLM requests; "
          f"peak driver RSS {ray_['peak_rss'] / 1e6:.0f} MB")
    print(f"  report: {info['summary']}; limiter {info.get('limiter')}")
    print(f"  ray / local throughput: {ray_rate / local_rate:.2f} (goal >= 0.8)")
    if info["nodes_used"] < args.nodes:
        print(f"  WARNING: only {info['nodes_used']} of {args.nodes} nodes did work", file=sys.stderr)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--synthetic", action="store_true", help="generated pages instead of the data set's")
    ap.add_argument("-n", type=int, default=400, help="pages")
    ap.add_argument("--latency", type=float, default=0.5, help="fake LLM latency, seconds")
    ap.add_argument("-c", "--concurrency", type=int, default=8)
    ap.add_argument("--nodes", type=int, default=2, help="Ray nodes of one CPU each")
    ap.add_argument("--items", type=int, default=0, help="JSONL items for a driver-memory run through Ray (0: skip)")
    ap.add_argument("--kill-node", action="store_true",
                    help="then a third run in which the worker node dies (SIGKILL of its raylet) mid-run")
    args = ap.parse_args()
    if not args.synthetic and not (args.data / "extraction-dev" / "html").is_dir():
        print(f"no {args.data}/extraction-dev/html; pass --data (or --synthetic for generated pages)", file=sys.stderr)
        return 2
    if os.environ.get(INSIDE) != "1":
        return reexec_in_namespace()
    return bench(args)


if __name__ == "__main__":
    threading.excepthook = lambda a: None  # quiet server threads on shutdown
    sys.exit(main())
