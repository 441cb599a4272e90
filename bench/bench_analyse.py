"""Benchmark of ``d4d.analyse.analyse`` on synthetic ecosystems.

For each size, a fresh Python process builds a synthetic ecosystem (bench/synthetic.py: about
``--per-actor`` relationships per actor, eight sectors, 10 % people, years 1990-2024) and times
the whole ``analyse`` run with the default backend (igraph; sampled betweenness in a forked
worker), then -- for sizes up to ``--networkx-max`` -- the same run with ``backend="networkx"``
(networkx for every graph algorithm), in the same way, as the baseline.  Peak memory is the
maximum resident set size of the process (``resource.getrusage``) and of its worker; CPU time
(user + system) of both is printed too, since on a machine shared with other work it says more
than the wall-clock time: with two free cores the run takes about the larger of the two.

    python bench/bench_analyse.py                      # 1k, 10k, 100k actors
    python bench/bench_analyse.py --sizes 1000 5000 --networkx-max 5000

Prints a Markdown table and a per-stage breakdown of the largest run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

# the functions analyse() calls, timed one by one (betweenness runs in the worker when parallel)
STAGES = ("component_summary", "articulation_points", "bridges", "global_efficiency",
          "component_membership", "mixing_matrix", "ei_index", "sector_assortativity",
          "sector_modularity", "conductance", "communities", "betweenness", "constraint",
          "effective_size", "brokerage_roles", "recommend_ties", "series", "removal_impact")


def _rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux: kilobytes


def _cpu_s(who: int = resource.RUSAGE_SELF) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def run_one(n: int, backend: str, per_actor: float, seed: int, workers: int) -> dict[str, Any]:
    """Build one ecosystem and analyse it, in this process; return the measurements."""
    sys.path.insert(0, str(HERE))
    from synthetic import synthetic_ecosystem

    import d4d.analyse as analysis

    started = time.perf_counter()
    G = synthetic_ecosystem(n, per_actor=per_actor, seed=seed)
    build_s = time.perf_counter() - started
    rss_graph = _rss_mb()
    stages: dict[str, float] = {}

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                stages[name] = stages.get(name, 0.0) + time.perf_counter() - t0
        return wrapper

    for name in STAGES:
        setattr(analysis, name, timed(name, getattr(analysis, name)))
    cpu0, child0 = _cpu_s(), _cpu_s(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    net = analysis.Network(G)
    prepare_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    metrics = analysis.analyse(net, backend=backend, seed=seed, workers=workers)  # type: ignore[arg-type]
    analyse_s = time.perf_counter() - t0
    return {
        "actors": n, "relationships": G.number_of_edges(), "backend": backend,
        "workers": workers, "build_s": build_s, "prepare_s": prepare_s, "analyse_s": analyse_s,
        "total_s": prepare_s + analyse_s, "rss_graph_mb": rss_graph, "rss_peak_mb": _rss_mb(),
        "rss_worker_mb": _rss_mb(resource.RUSAGE_CHILDREN), "stages": stages,
        "cpu_main_s": _cpu_s() - cpu0, "cpu_worker_s": _cpu_s(resource.RUSAGE_CHILDREN) - child0,
        "exact": metrics["meta"]["exact"], "samples": metrics["meta"]["samples"],
        "betweenness_error": metrics["brokerage"]["betweenness"]["error_bound"],
        "efficiency": metrics["summary"]["efficiency"], "ei": metrics["summary"]["ei_index"],
        "communities": metrics["communities"]["method"],
    }


def spawn(n: int, backend: str, args: argparse.Namespace, workers: int) -> dict[str, Any] | str:
    """Run one measurement in a fresh process; a string says why there is no result."""
    command = [sys.executable, __file__, "--one", str(n), "--backend", backend,
               "--per-actor", str(args.per_actor), "--seed", str(args.seed),
               "--workers", str(workers)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout,
                              check=False)
    except subprocess.TimeoutExpired:
        return f"not finished in {args.timeout:.0f} s"
    if done.returncode != 0:
        return "failed: " + (done.stderr.strip().splitlines() or ["?"])[-1]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def table(rows: list[tuple[dict[str, Any], dict[str, Any] | str | None]]) -> str:
    lines = [
        "| actors | relationships | analyse (igraph, 2 workers) | CPU main + worker "
        "| peak RSS (main + worker) | networkx-only analyse | networkx / igraph |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for fast, slow in rows:
        memory = f"{fast['rss_peak_mb'] / 1024:.2f} GB + {fast['rss_worker_mb'] / 1024:.2f} GB"
        if isinstance(slow, dict):
            base = f"{slow['total_s']:.1f} s"
            ratio = f"{slow['total_s'] / fast['total_s']:.1f}x"
        else:
            base, ratio = (slow or "not run"), "-"
        cpu = f"{fast['cpu_main_s']:.1f} s + {fast['cpu_worker_s']:.1f} s"
        lines.append(f"| {fast['actors']:,} | {fast['relationships']:,} | {fast['total_s']:.1f} s "
                     f"| {cpu} | {memory} | {base} | {ratio} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--per-actor", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--networkx-max", type=int, default=1_000,
                        help="largest size also run with backend='networkx'")
    parser.add_argument("--timeout", type=float, default=1200.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--backend", default="auto", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.backend, args.per_actor, args.seed, args.workers)))
        return
    print(f"# d4d analyse benchmark: {os.cpu_count()} cores, load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    rows: list[tuple[dict[str, Any], dict[str, Any] | str | None]] = []
    for n in args.sizes:
        fast = spawn(n, "auto", args, args.workers)
        if isinstance(fast, str):
            print(f"{n:,} actors: {fast}")
            continue
        slow = spawn(n, "networkx", args, 1) if n <= args.networkx_max else None
        rows.append((fast, slow))
        print(f"{n:,} actors: {fast['total_s']:.1f} s "
              f"(networkx: {slow['total_s'] if isinstance(slow, dict) else slow})", flush=True)
    print()
    print(table(rows))
    slow_runs = [slow for _, slow in rows if isinstance(slow, dict)]
    if slow_runs:
        slow = slow_runs[-1]
        print(f"\nStages of the {slow['actors']:,}-actor networkx-only run (s):")
        for name, seconds in sorted(slow["stages"].items(), key=lambda kv: -kv[1])[:8]:
            print(f"  {name}: {seconds:.1f}")
    if rows:
        fast = rows[-1][0]
        print(f"\nStages of the {fast['actors']:,}-actor run (s; building the synthetic graph "
              f"took {fast['build_s']:.1f} s and {fast['rss_graph_mb'] / 1024:.2f} GB, not counted):")
        print(f"  prepare (collapse the multigraph): {fast['prepare_s']:.1f}")
        for name, seconds in sorted(fast["stages"].items(), key=lambda kv: -kv[1]):
            print(f"  {name}: {seconds:.1f}")
        if "betweenness" not in fast["stages"]:
            print("  betweenness and global_efficiency: in the forked worker, overlapped with the "
                  "stages above")
        if fast["samples"]:
            print(f"  sampled: {fast['samples']} sources, betweenness within "
                  f"+-{fast['betweenness_error']:.3f} per actor at 95 %; communities by "
                  f"{fast['communities']}")


if __name__ == "__main__":
    main()
