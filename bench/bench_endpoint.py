"""Load test of ``d4d serve``: cheap queries keep answering while expensive ones run.

The script starts the real server (``python -m d4d.cli serve``) on 127.0.0.1 over a build of the
bundled project (or ``--store``), then runs, for ``--seconds`` (30):

- ``--cheap`` clients (45) in a closed loop, each asking one of a few catalogue queries an analyst
  asks all day (an actor by exact name, an ASK on one actor's ties, a count of one actor's ties);
- ``--expensive`` clients (5) in a closed loop, asking either a query that never ends (a 16-way
  product to count) or one that needs unbounded memory (a three-way product, sorted); a client
  told 429 or 503 waits the ``Retry-After`` seconds before asking again, as well-behaved clients do.

Clients are threads spread over a few processes, each client from an address of its own on
127.0.0.0/8 (the server limits queries per client address), opening a new connection per request
(the server speaks HTTP/1.0). A watcher samples every worker process's resident memory and address
space every 20 ms. Afterwards it checks that the server still runs with all its workers, answers
the same count as before, and that no file of the store changed (SHA-256 of every file).

It prints the figures and PASS/FAIL for each target (cheap success >= 99 %, cheap p95 < 250 ms,
no worker above its memory limit, server and data unchanged) and exits 1 if one fails.

Usage::

    python bench/bench_endpoint.py                  # 45 cheap + 5 expensive clients, 30 s
    python bench/bench_endpoint.py --seconds 10 --store build
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

D4D = "https://w3id.org/d4d/ontology#"
ID = "https://w3id.org/d4d/id/"
CHEAP = [
    f'SELECT ?actor WHERE {{ ?actor <{D4D}name> "DataKind" }}',
    f"ASK {{ <{ID}datakind> ?p ?o }}",
    f"SELECT (COUNT(*) AS ?n) WHERE {{ <{ID}datakind> ?p ?o }}",
    f"SELECT ?p ?o WHERE {{ <{ID}datakind> ?p ?o }} LIMIT 20",
]
NEVER_ENDS = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"?s{i} ?p{i} ?o{i} ." for i in range(16)) + " }"
HUNGRY = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?c ?f ?i LIMIT 1"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
CLIENT_PROCESSES = 5
TIMEOUT = 120.0


def request(port: int, query: str, source: str = "127.0.0.1") -> tuple[int, float, float, str]:
    """GET one query: (status, seconds, Retry-After, first line of an error's text); status 0 for
    a connection that failed."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT, source_address=(source, 0))
    try:
        connection.request("GET", "/sparql?" + urllib.parse.urlencode({"query": query}),
                           headers={"Accept": "application/sparql-results+json"})
        response = connection.getresponse()
        body = response.read()
        retry = float(response.headers.get("Retry-After") or 0)
        reason = body[:200].decode("utf-8", "replace").split("\n")[0] if response.status != 200 else ""
        return response.status, time.monotonic() - started, retry, reason
    except OSError as error:
        return 0, time.monotonic() - started, 0.0, str(error)
    finally:
        connection.close()


Outcome = tuple[str, int, float, str]  # query, status, seconds, reason


def client(port: int, source: str, queries: list[str], until: float, retry: bool, out: list[Outcome]) -> None:
    index = 0
    while time.monotonic() < until:
        query = queries[index % len(queries)]
        index += 1
        status, seconds, wait, reason = request(port, query, source)
        out.append((query, status, seconds, reason))
        if retry and wait:
            time.sleep(min(wait, max(0.0, until - time.monotonic())))


def client_process(port: int, first: int, cheap: int, expensive: list[str], start: float, seconds: float,
                   results: Any) -> None:
    """Run ``cheap`` cheap clients and one expensive client per query in ``expensive``."""
    time.sleep(max(0.0, start - time.time()))
    until = time.monotonic() + seconds
    out_cheap: list[Outcome] = []
    out_expensive: list[Outcome] = []
    threads = [threading.Thread(target=client, args=(port, address(first + i),
                                                     CHEAP[i % len(CHEAP):] + CHEAP[:i % len(CHEAP)],
                                                     until, False, out_cheap)) for i in range(cheap)]
    threads += [threading.Thread(target=client, args=(port, address(first + cheap + i), [query], until, True,
                                                      out_expensive))
                for i, query in enumerate(expensive)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put((out_cheap, out_expensive))


def address(client_number: int) -> str:
    """Each client's own address on 127.0.0.0/8, as distinct clients (the server limits queries
    per client address)."""
    return f"127.0.{1 + client_number // 250}.{1 + client_number % 250}"


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def memory_of(pid: int) -> tuple[int, int]:
    """(resident, address space) of a process, in kB; (0, 0) once it is gone."""
    try:
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
        return int(fields["VmRSS"].split()[0]), int(fields["VmSize"].split()[0])
    except (OSError, KeyError, ValueError):
        return 0, 0


def watch(server_pid: int, stop: threading.Event, peaks: dict[int, tuple[int, int]]) -> None:
    while not stop.is_set():
        for pid in children(server_pid):
            rss, size = memory_of(pid)
            old = peaks.get(pid, (0, 0))
            peaks[pid] = (max(old[0], rss), max(old[1], size))
        time.sleep(0.02)


def store_digest(store: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in store.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(store)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--cheap", type=int, default=45)
    parser.add_argument("--expensive", type=int, default=5)
    parser.add_argument("--store", type=Path, help="a built store (default: build the bundled project)")
    parser.add_argument("--memory-limit", type=int, default=2048, help="MB per worker (d4d serve --memory-limit)")
    parser.add_argument("--time-limit", type=float, default=30.0)
    args = parser.parse_args()
    if not 0 < args.seconds <= 300 or args.cheap + args.expensive > 200:
        parser.error("at most 300 s and 200 clients")

    with tempfile.TemporaryDirectory(prefix="d4d-bench-endpoint-") as scratch:
        if args.store is None:
            from d4d.pipeline import build

            print("building the bundled project ...", file=sys.stderr, flush=True)
            build(ROOT, out=Path(scratch) / "build", extras=False)
            store = Path(scratch) / "build" / "store"
        else:
            from d4d.store import find_store

            store = Path(find_store(args.store))
        before = store_digest(store)
        port = free_port()
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        server = subprocess.Popen([sys.executable, "-m", "d4d.cli", "serve", "--store", str(store),
                                   "--port", str(port), "--quiet", "--memory-limit", str(args.memory_limit),
                                   "--time-limit", str(args.time_limit)],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            return run(args, server, port, store, before)
        finally:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def run(args: argparse.Namespace, server: subprocess.Popen[bytes], port: int, store: Path, before: str) -> int:
    deadline = time.monotonic() + 60
    while request(port, "ASK {}")[0] != 200:
        if time.monotonic() > deadline or server.poll() is not None:
            print("the server did not start", file=sys.stderr)
            return 1
        time.sleep(0.2)
    workers_before = sorted(children(server.pid))
    count_before = request_body(port, COUNT)

    peaks: dict[int, tuple[int, int]] = {}
    stop = threading.Event()
    watcher = threading.Thread(target=watch, args=(server.pid, stop, peaks), daemon=True)
    watcher.start()
    expensive = [NEVER_ENDS if i % 2 == 0 else HUNGRY for i in range(args.expensive)]
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    start = time.time() + 2  # every client process starts at once
    processes = []
    first = 0
    for index in range(CLIENT_PROCESSES):
        cheap = args.cheap // CLIENT_PROCESSES + (1 if index < args.cheap % CLIENT_PROCESSES else 0)
        mine = expensive[index::CLIENT_PROCESSES]
        process = context.Process(target=client_process,
                                  args=(port, first, cheap, mine, start, args.seconds, results))
        process.start()
        processes.append(process)
        first += cheap + len(mine)
    cheap_results: list[Outcome] = []
    expensive_results: list[Outcome] = []
    for _ in processes:
        out_cheap, out_expensive = results.get(timeout=args.seconds + TIMEOUT + 60)
        cheap_results += out_cheap
        expensive_results += out_expensive
    for process in processes:
        process.join()
    stop.set()
    watcher.join()

    time.sleep(1)  # let killed workers be replaced
    deadline = time.monotonic() + 30
    while len(children(server.pid)) < len(workers_before) and time.monotonic() < deadline:
        time.sleep(0.2)
    alive = server.poll() is None
    count_after = request_body(port, COUNT) if alive else None
    workers_after = len(children(server.pid)) if alive else 0
    after = store_digest(store)

    ok = [seconds for _, status, seconds, _ in cheap_results if status == 200]
    statuses = Counter(status for _, status, _, _ in cheap_results)
    success = len(ok) / len(cheap_results) if cheap_results else 0.0
    p95 = percentile(ok, 0.95)
    limit_kb = args.memory_limit * 1024
    worst_rss = max((rss for rss, _ in peaks.values()), default=0)
    worst_size = max((size for _, size in peaks.values()), default=0)
    print(f"clients: {args.cheap} cheap, {args.expensive} expensive, {args.seconds:g} s, "
          f"{os.cpu_count()} cores, load average before {os.getloadavg()[0]:.1f}")
    print(f"cheap: {len(cheap_results)} requests ({len(cheap_results) / args.seconds:.0f}/s), "
          f"statuses {dict(sorted(statuses.items()))}, success {100 * success:.2f} %")
    print(f"cheap latency of answered: p50 {1000 * percentile(ok, 0.5):.0f} ms, p95 {1000 * p95:.0f} ms, "
          f"p99 {1000 * percentile(ok, 0.99):.0f} ms, max {1000 * max(ok, default=0):.0f} ms")
    for name, query in (("never-ending", NEVER_ENDS), ("memory-hungry", HUNGRY)):
        answers = Counter(f"{status} {reason}".strip() for q, status, _, reason in expensive_results if q == query)
        print(f"expensive {name}: {len(answers)} kinds of answer")
        for answer, count in sorted(answers.items()):
            print(f"  {count} x {answer}")
    failures = Counter(f"{status} {reason}" for _, status, _, reason in cheap_results if status != 200)
    for answer, count in sorted(failures.items()):
        print(f"  cheap failure: {count} x {answer}")
    print(f"workers seen: {len(peaks)}; peak resident {worst_rss / 1024:.0f} MB, peak address space "
          f"{worst_size / 1024:.0f} MB (limit {args.memory_limit} MB)")
    checks = {
        "cheap success >= 99 %": success >= 0.99,
        "cheap p95 < 250 ms": p95 < 0.250,
        "no worker above its memory limit": worst_size <= limit_kb,
        "server alive with all its workers": alive and workers_after == len(workers_before),
        "same answer before and after": count_after == count_before,
        "store files unchanged": after == before,
    }
    for name, passed in checks.items():
        print(f"{'PASS' if passed else 'FAIL'}  {name}")
    return 0 if all(checks.values()) else 1


def request_body(port: int, query: str) -> bytes:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        connection.request("GET", "/sparql?" + urllib.parse.urlencode({"query": query}),
                           headers={"Accept": "text/csv"})
        return connection.getresponse().read()
    finally:
        connection.close()


if __name__ == "__main__":
    sys.exit(main())
