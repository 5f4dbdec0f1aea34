"""LLM engine benchmark against a loopback OpenAI-compatible server with a fixed latency.

    python bench/llm.py [--articles 200] [--latency-ms 50] [--data ../shared/data]

The server (tests/fakellm.py) runs in a child process, so the figures are the client's alone.
Prints, for the async path (api.agenerate → LLMEngine.agenerate → shared AsyncOpenAI):
  * client-side overhead per call at concurrency 1 and 16: the mean time of one agenerate call
    minus the server's fixed latency, and the client process's CPU time per call (prompt
    rendering, token counting, HTTP, JSON parsing, validation, grounding);
  * prompt tokens / article tokens for an ~800-word article (goal ≤ 1.3): the tokens of the
    request as sent (messages and the json_schema), counted the way --dry-run counts them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.fakellm
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from takeaways import api, client, tokens
from takeaways.config import Settings
from takeaways.engines import llm
from takeaways.extraction import extract_text
from takeaways.models import Article, Spec
from tests.fakellm import FakeLLM, Reply, grounded

SYNTHETIC = ("The regional council met on Tuesday to discuss the new transport plan for the city and its suburbs. "
             "Officials presented figures showing that bus ridership has grown steadily over the last three years. ")


def article_800(data: Path) -> tuple[Article, str]:
    """The dev-set article closest to 800 words, or a synthetic one when the data is absent."""
    path = data / "highlights-dev.jsonl"
    if path.is_file():
        best = None
        for line in path.open(encoding="utf-8"):
            row = json.loads(line)
            words = len(row["article"].split())
            if best is None or abs(words - 800) < abs(best[0] - 800):
                best = (words, row)
        assert best is not None
        return extract_text(best[1]["article"]), f"{path.name} {best[1]['id']} ({best[0]} words)"
    words = SYNTHETIC.split()
    text = " ".join((words * (800 // len(words) + 1))[:800])
    return extract_text(text), "synthetic (800 words)"


async def run(settings: Settings, articles: list[Article], concurrency: int) -> list[float]:
    sem = asyncio.Semaphore(concurrency)
    durations: list[float] = []

    async def one(a: Article) -> None:
        async with sem:
            t0 = time.perf_counter()
            await api.agenerate(a, settings)
            durations.append(time.perf_counter() - t0)

    try:
        await asyncio.gather(*(one(a) for a in articles))
    finally:
        await client.aclose_shared_clients()
    return durations


def serve(latency: float, conn: Connection) -> None:
    """Child process: the fake server with a fixed latency, until the parent says stop."""
    with FakeLLM(default=lambda req: Reply(content=json.dumps(grounded(req)), delay=latency)) as fake:
        # http.server writes headers and body separately; without TCP_NODELAY, Nagle + delayed ACK
        # add ~40 ms per response on loopback, an artefact of the test server, not of the client.
        fake._server.RequestHandlerClass.disable_nagle_algorithm = True  # type: ignore[attr-defined]
        conn.send(fake.url)
        while True:
            message = conn.recv()
            if message == "stop":
                break
            conn.send(len(fake.requests))
            fake.requests.clear()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=200)
    ap.add_argument("--latency-ms", type=float, default=50.0, help="Fixed server latency per request.")
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    args = ap.parse_args()
    latency = args.latency_ms / 1000

    article, origin = article_800(args.data)
    spec = Spec()
    print(f"article: {origin}")
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(latency, child), daemon=True)
    server.start()
    try:
        url = parent.recv()
        settings = Settings.from_env(engine="openai", base_url=url, max_retries=0, timeout=30.0)
        plan = llm.plan(article, spec, settings)
        ratio = plan.prompt_tokens / plan.article_tokens
        print(f"token counting: {tokens.method(settings.model)}")
        print(f"prompt tokens / article tokens: {plan.prompt_tokens} / {plan.article_tokens} = {ratio:.2f} "
              f"(goal <= 1.3; {len(plan.users)} request(s); messages and json_schema counted)")
        asyncio.run(run(settings, [article] * 4, 4))  # warm-up: imports, template compilation, mode probe
        parent.send("count")
        parent.recv()
        for concurrency in (1, 16):
            t0, c0 = time.perf_counter(), time.process_time()
            durations = asyncio.run(run(settings, [article] * args.articles, concurrency))
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            parent.send("count")
            n_requests = parent.recv()
            overhead_ms = (statistics.mean(durations) - latency) * 1000
            print(f"concurrency {concurrency:>2}: {args.articles} articles, {n_requests} requests, wall {wall:.2f} s, "
                  f"{args.articles / wall:.1f} articles/s; client-side overhead per call: {overhead_ms:.1f} ms "
                  f"(latency minus the server's {args.latency_ms:g} ms), {cpu / args.articles * 1000:.1f} ms CPU")
    finally:
        parent.send("stop")
        server.join(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
