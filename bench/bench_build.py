"""Benchmark of the whole build at scale, against a raw store load and an rdflib-only pipeline.

For synthetic IATI sources of 10k, 100k and 1M transactions (``bench/synthetic_iati.py``: about 2.6
transactions and 3.3 participating organisations per activity, one organisation per 20 transactions),
declared for the build in a project's ``imports.yaml``, it measures in the same run:

- ``d4d build --rdf-only`` (HermiT on the curated facts, the import streamed into the on-disk store,
  the shapes checked in the store, the rules run in the store, the RDF files when the graph is small
  enough, see ``d4d.limits.DUMP_LIMIT``): wall time, peak memory of the process tree (RSS, with the
  JVM that HermiT runs in), triples;
- the baseline: a raw pyoxigraph ``bulk_load`` of the build's result (every triple of the store, as
  N-Triples) into an empty on-disk store, in its own process;
- the rdflib-only pipeline, where it finishes in reasonable time (``--rdflib-max`` triples): rdflib
  parses the same N-Triples and writes Turtle;
- a rebuild with nothing changed, and a rebuild after editing one curated fact (the funder of a
  funding in ``graph/relationships/fundings.yaml``).

The guard (issue 26): build within 3.5x of the raw bulk load at 10k and 100k transactions, within 4x at
1M, peak memory under 8 GB, a one-fact rebuild of the 1M graph under 10 s. ``--before DIR`` measures
another checkout's build in the same run.

With ``--pairs N``, sizes up to ``--pairs-max`` transactions (100k by default) get N full builds and N raw
loads, alternated (build, raw, build, raw...): the table gives the median of each, the ratio of the
medians and the median of the pairs' ratios, and lists every pair. On a shared machine one build and
one load, minutes apart, can each be a third off (100k builds of the same code took 134 to 201 s within
an hour): a single pair's ratio is then mostly the noise's.

Run: ``/work/venv/bin/python bench/bench_build.py [--sizes 10000,100000,1000000] [--pairs 3]
[--work /tmp/d4d-bench] [--out FILE]``: the table is printed (and written to FILE); it goes into
``bench/RESULTS-build.md``, the log of the runs, by hand, with what changed. The 1M size takes about
1.5 hours on 2 cores (the build 23 to 32 minutes; compacting, dumping and loading the baseline about
40 on a slow night); three pairs at 100k about 20 minutes. The baselines need free disk for the
result's N-Triples and the raw load's store, about 400 bytes per triple (37 GB at 1M transactions):
the run stops before them if ``--work`` has less, and it stops at any step that fails, naming it (the
sizes done before are kept in ``--json``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
D4D = str(Path(PYTHON).with_name("d4d"))

sys.path.insert(0, str(ROOT / "bench"))
import synthetic_iati  # noqa: E402


# ---------------------------------------------------------------------------------------------
# Running a command and watching its memory


def _tree(pid: int) -> list[int]:
    """The process and its descendants (from /proc)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as handle:
                    todo.extend(int(c) for c in handle.read().split())
        except OSError:
            continue
    return out


def _rss(pids: list[int]) -> int:
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def run(command: list[str], *, timeout: float | None = None, cwd: Path | None = None,
        code: Path | None = None) -> dict[str, object]:
    """Run a command (with ``code`` first on PYTHONPATH: another checkout's d4d); return wall seconds,
    CPU seconds of the tree, peak RSS of the tree, output, status."""
    started = time.perf_counter()
    before = os.times()
    env = {**os.environ, "PYTHONPATH": str(code)} if code is not None else None
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=cwd, env=env)
    peak = 0
    output: list[str] = []
    import threading

    reader = threading.Thread(target=lambda: output.extend(proc.stdout or []), daemon=True)
    reader.start()
    timed_out = False
    while proc.poll() is None:
        peak = max(peak, _rss(_tree(proc.pid)))
        if timeout is not None and time.perf_counter() - started > timeout:
            for p in reversed(_tree(proc.pid)):
                try:
                    os.kill(p, 9)
                except OSError:
                    pass
            timed_out = True
            break
        time.sleep(0.2)
    proc.wait()
    reader.join(timeout=5)
    after = os.times()
    return {"seconds": time.perf_counter() - started, "cpu": (after.children_user - before.children_user) +
            (after.children_system - before.children_system), "peak": peak, "output": "".join(output),
            "status": proc.returncode, "timed_out": timed_out}


# ---------------------------------------------------------------------------------------------
# The steps


def prepare(work: Path, transactions: int, seed: int) -> Path:
    """A project folder with the ontology, the curated facts and the synthetic source declared."""
    work.mkdir(parents=True, exist_ok=True)
    xml = work / "iati.xml"
    stamp = work / "iati.stamp"
    current = stamp.read_text() if stamp.is_file() else ""
    if not xml.is_file() or current != f"{transactions} {seed}":
        synthetic_iati.write(xml, transactions, seed=seed)
        stamp.write_text(f"{transactions} {seed}")
    project = work / "project"
    for name in ("ontology", "graph"):
        shutil.rmtree(project / name, ignore_errors=True)
        shutil.copytree(ROOT / name, project / name)
    (project / "imports.yaml").write_text(
        "sources:\n"
        f"  - name: synthetic\n    kind: iati\n    paths: [{xml}]\n    build: true\n"
        "    options: {title: Synthetic IATI activities}\n", encoding="utf-8")
    return project


class StepFailed(SystemExit):
    """A step of the benchmark failed: the run stops (its earlier sizes are kept in ``--json``), naming
    the size, the step and the step's own error, instead of timing a failure as if it were a result."""


def check(result: dict[str, object], step: str, transactions: int) -> dict[str, object]:
    """``result`` if its command succeeded; else raise :class:`StepFailed` with the end of its output."""
    if result["status"] != 0 and not result.get("timed_out"):
        tail = str(result["output"]).strip().splitlines()[-5:]
        raise StepFailed(f"bench_build: {step} of {transactions:,} transactions failed (exit status "
                         f"{result['status']}):\n  " + "\n  ".join(tail))
    return result


NT_BYTES_PER_TRIPLE = 200
"""About the size of one triple of the build's result as N-Triples (185 bytes at 1M transactions)."""


def check_space(folder: Path, triples: int, transactions: int) -> None:
    """Stop before the baselines if ``folder`` has not the room for the result's N-Triples and the raw
    load's store (each about :data:`NT_BYTES_PER_TRIPLE` per triple): at 1M transactions the dump alone
    takes an hour to find the disk full."""
    need = 2 * NT_BYTES_PER_TRIPLE * triples
    free = shutil.disk_usage(folder).free
    if free < need:
        raise StepFailed(f"bench_build: the baselines of {transactions:,} transactions need about "
                         f"{need / 1e9:.0f} GB free in {folder} (the N-Triples of {triples:,} triples and "
                         f"their raw load), and it has {free / 1e9:.0f} GB")


def build(project: Path, out: Path, *, timeout: float | None, code: Path | None = None) -> dict[str, object]:
    result = run([D4D, "build", "--project", str(project), "--out", str(out), "--rdf-only"], timeout=timeout,
                 code=code)
    text = str(result["output"])
    match = re.search(r"built (\d+) triples \((\d+) inferred\)", text)
    result["triples"] = int(match.group(1)) if match else None
    result["inferred"] = int(match.group(2)) if match else None
    times = re.search(r"^time: (.*)$", text, re.MULTILINE)
    result["stages"] = times.group(1) if times else ""
    mode = re.search(r"^store: (\w+)", text, re.MULTILINE)
    result["mode"] = mode.group(1) if mode else "?"
    return result


def compact(build_dir: Path) -> dict[str, object]:
    """Merge the files of the built store (``Store.optimize``), before it is read back for the baselines.

    A build leaves its store less merged than it will be once used: the process ends before the
    store's background compaction does. Read back as it is, every term is
    decoded through more files: the 100k dump took 248 s, against 19 s to compact and 70 s to dump after,
    and the 1M dump ran for over 50 minutes. Not part of any measured figure."""
    code = (
        "import pyoxigraph as ox\n"
        f"st = ox.Store({str(build_dir / 'store')!r})\n"
        "st.optimize()\n")
    return run([PYTHON, "-c", code])


def result_ntriples(build_dir: Path, target: Path) -> dict[str, object]:
    """Every triple of the built store as N-Triples, once: its default graph, which holds the merge of
    its named graphs (see d4d.store), for the baselines."""
    code = (
        "import pyoxigraph as ox, sys\n"
        f"st = ox.Store.read_only({str(build_dir / 'store')!r})\n"
        "st.dump(sys.argv[1], format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())\n")
    return run([PYTHON, "-c", code, str(target)])


def raw_bulk_load(ntriples: Path, store_dir: Path) -> dict[str, object]:
    shutil.rmtree(store_dir, ignore_errors=True)
    code = (
        "import pyoxigraph as ox, sys\n"
        "st = ox.Store(sys.argv[2])\n"
        "st.bulk_load(path=sys.argv[1], format=ox.RdfFormat.N_TRIPLES)\n"
        "st.flush()\n")
    result = run([PYTHON, "-c", code, str(ntriples), str(store_dir)])
    shutil.rmtree(store_dir, ignore_errors=True)
    return result


def rdflib_pipeline(ntriples: Path, target: Path, *, timeout: float) -> dict[str, object]:
    code = (
        "import sys\nfrom rdflib import Graph\n"
        "g = Graph()\ng.parse(sys.argv[1], format='nt')\n"
        "g.serialize(sys.argv[2], format='turtle')\n"
        "print(len(g))\n")
    result = run([PYTHON, "-c", code, str(ntriples), str(target)], timeout=timeout)
    target.unlink(missing_ok=True)
    return result


def edit_one_fact(project: Path, *, back: bool = False) -> None:
    path = project / "graph" / "relationships" / "fundings.yaml"
    text = path.read_text(encoding="utf-8")
    old, new = "funder: rockefeller-foundation", "funder: mit-media-lab"
    if back:
        old, new = new, old
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# ---------------------------------------------------------------------------------------------


def gb(n: object) -> str:
    return f"{int(n) / 1e9:.2f} GB" if isinstance(n, int) and n else "-"


def secs(value: object) -> str:
    return f"{float(value):.1f}" if isinstance(value, (int, float)) else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--work", default="/tmp/d4d-bench-build")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rdflib-max", type=int, default=3_000_000,
                        help="run the rdflib pipeline up to this many triples")
    parser.add_argument("--rdflib-timeout", type=float, default=1800.0)
    parser.add_argument("--out", default=None, help="also write the table to this file")
    parser.add_argument("--json", default=None, help="also write the raw measurements as JSON")
    parser.add_argument("--render", default=None,
                        help="only print the table of the measurements in this JSON (an earlier --json)")
    parser.add_argument("--pairs", type=int, default=1,
                        help="full builds and raw loads per size, alternated (the table gives their medians)")
    parser.add_argument("--pairs-max", type=int, default=100_000,
                        help="give --pairs to sizes up to this many transactions; larger ones get one pair")
    parser.add_argument("--before", type=Path, default=None,
                        help="a checkout of the code to compare with (e.g. main before a change): its full build "
                             "and one-fact rebuild are measured in the same run, right after this code's")
    parser.add_argument("--before-max", type=int, default=10_000,
                        help="measure --before up to this many transactions (the code before issue 26 assembles "
                             "the graph in memory: some 2 GB at 10k, far more above)")
    parser.add_argument("--reuse-rdflib", default=None,
                        help="JSON of an earlier run: take its rdflib measurement for a size whose result has "
                             "the same number of triples (the baseline does not depend on d4d's code)")
    args = parser.parse_args(argv)
    if args.pairs < 1:
        parser.error("--pairs must be 1 or more")
    if args.render:
        saved = json.loads(Path(args.render).read_text(encoding="utf-8"))
        print(render(saved, (float(saved[0]["load"]),), (float(saved[-1].get("load_after", saved[-1]["load"])),)))
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s]
    work = Path(args.work)
    rows = []
    load_before = os.getloadavg()
    for n in sizes:
        here = work / f"n{n}"
        print(f"== {n} transactions", file=sys.stderr, flush=True)
        t = time.perf_counter()
        project = prepare(here, n, args.seed)
        generated = time.perf_counter() - t
        out = here / "build"
        shutil.rmtree(out, ignore_errors=True)
        load = os.getloadavg()[0]
        full = check(build(project, out, timeout=None), "the full build", n)
        if full["triples"] is None:
            raise StepFailed(f"bench_build: the full build of {n:,} transactions printed no 'built N triples' line")
        print(f"   build {secs(full['seconds'])} s, {full['triples']} triples, peak {gb(full['peak'])}",
              file=sys.stderr, flush=True)
        same = check(build(project, out, timeout=None), "the rebuild with nothing changed", n)
        edit_one_fact(project)
        one = check(build(project, out, timeout=None), "the rebuild after editing one fact", n)
        edit_one_fact(project, back=True)
        earlier: dict[str, object] = {}
        if args.before is not None and n <= args.before_max:
            old_dir = here / "build-before"
            shutil.rmtree(old_dir, ignore_errors=True)
            earlier["build"] = check(build(project, old_dir, timeout=None, code=args.before), "the earlier code's build", n)
            edit_one_fact(project)
            earlier["one_fact"] = check(build(project, old_dir, timeout=None, code=args.before),
                                        "the earlier code's one-fact rebuild", n)
            edit_one_fact(project, back=True)
            shutil.rmtree(old_dir, ignore_errors=True)
            print(f"   earlier code: build {secs(earlier['build']['seconds'])} s, one fact "  # type: ignore[index]
                  f"{secs(earlier['one_fact']['seconds'])} s", file=sys.stderr, flush=True)  # type: ignore[index]
        print(f"   rebuilds: unchanged {secs(same['seconds'])} s ({same['mode']}), one fact "
              f"{secs(one['seconds'])} s ({one['mode']})", file=sys.stderr, flush=True)
        # restore the build of the original facts for the baselines
        back = check(build(project, out, timeout=None), "the rebuild of the original facts", n)
        nt = here / "result.nt"
        check_space(here, int(str(full["triples"])), n)
        try:
            compacted = check(compact(out), "the compaction of the built store", n)
            dumped = check(result_ntriples(out, nt), "the dump of the result as N-Triples", n)
            raw = check(raw_bulk_load(nt, here / "raw-store"), "the raw bulk_load", n)
            print(f"   raw bulk_load {secs(raw['seconds'])} s", file=sys.stderr, flush=True)
            pairs = [{"build": full["seconds"], "raw": raw["seconds"], "peak": full["peak"]}]
            for k in range(2, (args.pairs if n <= args.pairs_max else 1) + 1):
                again_dir = here / "build-again"
                shutil.rmtree(again_dir, ignore_errors=True)
                again = check(build(project, again_dir, timeout=None), f"full build {k}", n)
                shutil.rmtree(again_dir, ignore_errors=True)
                if again["triples"] != full["triples"]:
                    raise StepFailed(f"bench_build: full build {k} of {n:,} transactions made {again['triples']} "
                                     f"triples, the first {full['triples']}")
                raw_again = check(raw_bulk_load(nt, here / "raw-store"), f"raw bulk_load {k}", n)
                pairs.append({"build": again["seconds"], "raw": raw_again["seconds"], "peak": again["peak"]})
                print(f"   pair {k}: build {secs(again['seconds'])} s, raw bulk_load {secs(raw_again['seconds'])} s",
                      file=sys.stderr, flush=True)
            rdf: dict[str, object] = {}
            reused = [r for r in (json.loads(Path(args.reuse_rdflib).read_text()) if args.reuse_rdflib else [])
                      if r["transactions"] == n and r["build"]["triples"] == full["triples"] and r["rdflib"]]
            if reused:
                # its ratio is taken against that run's own build, made under the same load
                # (the build it was measured beside: that run's, or the one it took it from in turn)
                rdf = dict(reused[0]["rdflib"], reused=True)
                rdf.setdefault("build_seconds", reused[0]["build"]["seconds"])
                print(f"   rdflib {secs(rdf['seconds'])} s (measured in an earlier run)", file=sys.stderr, flush=True)
            elif full["triples"] and int(str(full["triples"])) <= args.rdflib_max:
                # a failure of rdflib (its memory, say) is a result of the baseline, shown as such
                rdf = rdflib_pipeline(nt, here / "rdflib.ttl", timeout=args.rdflib_timeout)
                print(f"   rdflib {secs(rdf['seconds'])} s", file=sys.stderr, flush=True)
        finally:
            nt.unlink(missing_ok=True)  # at 1M transactions, some 17 GB
        rows.append({"transactions": n, "generate": generated, "load": load, "build": full, "unchanged": same,
                     "one_fact": one, "restore": back, "compact": compacted, "dump": dumped, "raw": raw,
                     "rdflib": rdf, "pairs": pairs, "before": earlier, "xml_bytes": (here / "iati.xml").stat().st_size,
                     "load_after": os.getloadavg()[0]})
        if args.json:  # after every size, so that a long run stopped at the largest keeps the others
            Path(args.json).write_text(json.dumps(rows, indent=1, default=str), encoding="utf-8")
    load_after = os.getloadavg()
    table = render(rows, load_before, load_after)
    print(table)
    if args.out:
        Path(args.out).write_text(table, encoding="utf-8")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=str), encoding="utf-8")
    return 0


def summary(row: dict[str, object]) -> dict[str, Any]:
    """A size's full builds and raw loads: their medians (``build``, ``raw``), the ratio of the medians,
    the median of each pair's ratio (``pair_ratio``: a pair is a build and the load right after it, so
    a change of the machine's speed between pairs cancels out), how many ``pairs`` and the highest
    ``peak``. A row of a run without ``--pairs`` has one pair."""
    b, raw = row["build"], row["raw"]
    assert isinstance(b, dict) and isinstance(raw, dict)
    pairs = row.get("pairs") or [{"build": b["seconds"], "raw": raw.get("seconds"), "peak": b["peak"]}]
    assert isinstance(pairs, list)
    builds = [float(p["build"]) for p in pairs]
    raws = [float(p["raw"]) for p in pairs if p["raw"]]
    median_build = statistics.median(builds)
    median_raw = statistics.median(raws) if raws else None
    peaks = [int(p["peak"]) for p in pairs if p["peak"]]
    ratios = [float(p["build"]) / float(p["raw"]) for p in pairs if p["raw"]]
    return {"build": median_build, "raw": median_raw, "ratio": median_build / median_raw if median_raw else None,
            "pair_ratio": statistics.median(ratios) if ratios else None,
            "pairs": len(pairs), "peak": max(peaks) if peaks else None}


def _dump_time(row: dict[str, object]) -> str:
    dump, compacted = row["dump"], row.get("compact")
    assert isinstance(dump, dict)
    text = f"{secs(dump['seconds'])} s"
    if isinstance(compacted, dict):
        text += f" after compacting the store in {secs(compacted['seconds'])} s"
    return text


def render(rows: list[dict[str, object]], before: tuple[float, ...], after: tuple[float, ...]) -> str:
    lines = [
        "# Build benchmark (issue 7)",
        "",
        f"Machine: {os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 1e9:.0f} GB; "
        f"load average {before[0]:.1f} when the run started and {after[0]:.1f} when it ended (above 2, other "
        "work shared the cores and wall times are longer than on an idle machine; the ratios compare steps "
        "of the same run).",
        "",
        "| transactions | XML | triples (inferred) | d4d build | peak RSS | raw bulk_load | build / raw | "
        "rdflib parse+Turtle | rdflib / build | rebuild, nothing changed | rebuild, one fact edited |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        b, raw, rdf = row["build"], row["raw"], row["rdflib"]
        assert isinstance(b, dict) and isinstance(raw, dict) and isinstance(rdf, dict)
        paired = summary(row)
        build_text, raw_text = f"{secs(paired['build'])} s", f"{secs(paired['raw'])} s"
        if paired["pairs"] > 1:
            build_text += f" (median of {paired['pairs']})"
            raw_text += f" (median of {paired['pairs']})"
        ratio = f"{paired['ratio']:.2f}x" if paired["ratio"] else "-"
        if paired["pairs"] > 1 and paired["pair_ratio"]:
            ratio += f" (median of the pairs' ratios {paired['pair_ratio']:.2f}x)"
        if rdf and rdf.get("status") not in (0, None) and not rdf.get("timed_out"):
            rdflib_text, speedup = f"failed after {secs(rdf['seconds'])} s (exit status {rdf['status']})", "-"
        elif rdf.get("timed_out"):
            rdflib_text, speedup = f"> {secs(rdf['seconds'])} s (stopped)", f"> {rdf['seconds'] / paired['build']:.1f}x"
        elif rdf.get("seconds"):
            rdflib_text, speedup = f"{secs(rdf['seconds'])} s", f"{rdf['seconds'] / paired['build']:.1f}x"
            if rdf.get("reused"):
                earlier_build = float(rdf.get("build_seconds") or paired["build"])
                rdflib_text += f" (earlier run, whose build took {secs(earlier_build)} s)"
                speedup = f"{rdf['seconds'] / earlier_build:.1f}x"
        else:
            rdflib_text, speedup = "not run", "-"
        one, same = row["one_fact"], row["unchanged"]
        assert isinstance(one, dict) and isinstance(same, dict)
        lines.append(
            f"| {row['transactions']:,} | {int(str(row['xml_bytes'])) / 1e6:.0f} MB | {b['triples']:,} ({b['inferred']:,}) | "
            f"{build_text} | {gb(paired['peak'])} | {raw_text} | {ratio} | {rdflib_text} | "
            f"{speedup} | {secs(same['seconds'])} s ({same['mode']}) | {secs(one['seconds'])} s ({one['mode']}) |")
    compared = [row for row in rows if row.get("before")]
    if compared:
        lines += ["", "The earlier code (`--before`), measured in the same run right after this code's builds:", "",
                  "| transactions | triples (inferred) | build | build / raw | rebuild, one fact edited |",
                  "|---:|---:|---:|---:|---:|"]
        for row in compared:
            old, raw = row["before"], summary(row)["raw"]
            assert isinstance(old, dict)
            b, one = old["build"], old["one_fact"]
            ratio = f"{b['seconds'] / raw:.2f}x" if raw else "-"
            lines.append(f"| {row['transactions']:,} | {b['triples']:,} ({b['inferred']:,}) | {secs(b['seconds'])} s | "
                         f"{ratio} | {secs(one['seconds'])} s ({one['mode']}) |")
    repeated = [row for row in rows if summary(row)["pairs"] > 1]
    if repeated:
        lines += ["", "Full builds and raw loads, alternated (build / raw = ratio):", ""]
        for row in repeated:
            pairs = row["pairs"]
            assert isinstance(pairs, list)
            lines.append(f"- {row['transactions']:,} transactions: " + "; ".join(
                f"{secs(p['build'])} / {secs(p['raw'])} s = {p['build'] / p['raw']:.2f}x" for p in pairs))
    lines += ["", "Where the build's time goes (its own `time:` line):", ""]
    for row in rows:
        b, one = row["build"], row["one_fact"]
        assert isinstance(b, dict) and isinstance(one, dict)
        lines.append(f"- {row['transactions']:,} transactions, full build: {b['stages']}")
        lines.append(f"  - one fact edited: {one['stages']}")
    lines += ["", "Baseline input: every triple of the built store, once (its default graph), dumped as N-Triples "
              "(dump times: " + ", ".join(f"{r['transactions']:,}: {_dump_time(r)}" for r in rows) + ").", ""]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
