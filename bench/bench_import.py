"""Streaming IATI import: time and peak memory at 1k, 10k and 100k synthetic activities, and the covid file.

Each size runs in a fresh process that imports a synthetic IATI activity file (written to disk first,
also streamed) into an on-disk pyoxigraph store with :func:`d4d.imports.import_source`, and reports its
wall time and peak resident memory. Baselines measured in the same run, in their own processes:

- *parse only*: lxml ``iterparse`` over the same file, clearing each activity (the floor for reading XML);
- *bulk_load*: pyoxigraph's ``bulk_load`` of the N-Quads the import wrote, into a fresh on-disk store
  (the store's own load rate, the yardstick of the scaling issue).

Flat memory shows as a peak RSS that does not grow with the number of activities.

Usage::

    python bench/bench_import.py [--sizes 1000 10000 100000] [--out bench/RESULTS-import.md]
    python bench/bench_import.py --wide        # the bound on one activity (bench/RESULTS-inputs.md)

``--wide`` measures the peak RSS of ``d4d import iati FILE -o out.nq`` (a subprocess, as a user runs it) on
one activity of 1,000,000 participating organisations, on the same width one level down (one organisation
with 1,000,000 names), on the widest activity within :data:`d4d.limits.ACTIVITY_BYTES`, and on a file of
1,000 normal activities; it prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
COVID = ROOT.parent / "shared/data/hdx-scraper-iati-viz/covid/dportal.xml"

PUBLISHERS = 200
ORGANISATIONS = 5000
LOCAL_PARTNERS = 25
"""Name-only partners per publisher: 200 x 25 local nodes at most, so the organisations stay a bounded set
as the activities grow (as in real data, where the same partners recur)."""
TYPES = ["10", "21", "22", "40", "60", "70", "80"]


def write_synthetic(path: Path, activities: int, *, seed: int = 7) -> None:
    """A synthetic IATI 2.03 file: per activity a reporting org, titles in two languages, a description,
    dates, three participating organisations (one without an org-id), three transactions (commitment,
    disbursement, expenditure; some with a provider activity), written element by element."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<iati-activities version="2.03" '
                  'generated-datetime="2024-01-01T00:00:00Z">\n')
        for n in range(activities):
            publisher = f"XM-TEST-P{n % PUBLISHERS}"
            ident = f"{publisher}-A{n}"
            funder = f"XM-TEST-O{rng.randrange(ORGANISATIONS)}"
            implementer = f"GB-CHC-{1000000 + rng.randrange(ORGANISATIONS)}"
            local = f"Local partner {rng.randrange(LOCAL_PARTNERS)}"
            provider_activity = f"XM-TEST-P{(n - 1) % PUBLISHERS}-A{n - 1}" if n and rng.random() < 0.3 else ""
            year = 2010 + n % 14
            out.write(f'<iati-activity xml:lang="en" default-currency="USD" hierarchy="1">'
                      f"<iati-identifier>{ident}</iati-identifier>"
                      f'<reporting-org ref="{publisher}" type="{TYPES[n % len(TYPES)]}"><narrative>Publisher {n % PUBLISHERS}</narrative></reporting-org>'
                      f"<title><narrative>Project {n}: data for development</narrative>"
                      f'<narrative xml:lang="fr">Projet {n} : données pour le développement</narrative></title>'
                      f'<description type="1"><narrative>{escape("Synthetic activity & its description " * 3)}</narrative></description>'
                      f'<participating-org ref="{funder}" role="1" type="{TYPES[n % 3]}"><narrative>Funder {funder}</narrative></participating-org>'
                      f'<participating-org ref="{publisher}" role="3" type="40"><narrative>Publisher {n % PUBLISHERS}</narrative></participating-org>'
                      f'<participating-org role="4" type="22"><narrative>{local}</narrative></participating-org>'
                      f'<activity-date iso-date="{year}-01-15" type="2"/><activity-date iso-date="{year + 2}-12-31" type="3"/>')
            for code, amount in (("2", 100000 + n), ("3", 50000.5 + n), ("4", 1200)):
                chain = f' provider-activity-id="{provider_activity}"' if provider_activity and code == "3" else ""
                out.write(f'<transaction><transaction-type code="{code}"/><transaction-date iso-date="{year}-06-30"/>'
                          f'<value currency="USD" value-date="{year}-06-30">{amount}</value>'
                          f'<provider-org ref="{funder}"{chain}><narrative>Funder {funder}</narrative></provider-org>'
                          f'<receiver-org ref="{implementer}"><narrative>Charity {implementer}</narrative></receiver-org>'
                          f"</transaction>")
            out.write("</iati-activity>\n")
        out.write("</iati-activities>\n")


def write_wide(path: Path, partners: int, *, nested: bool = False) -> None:
    """One activity with ``partners`` participating organisations, written line by line; ``nested``: one
    organisation with ``partners`` names instead (the width one level down)."""
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<iati-activities version="2.03">\n'
                  '<iati-activity default-currency="USD"><iati-identifier>XM-WIDE-1</iati-identifier>'
                  '<reporting-org ref="XM-WIDE" type="10"><narrative>Wide Publisher</narrative></reporting-org>'
                  "<title><narrative>Wide activity</narrative></title>\n")
        if nested:
            out.write('<participating-org ref="XM-WIDE-O" role="4" type="22">\n')
        for n in range(partners):
            if nested:
                out.write(f"<narrative>Partner name {n}</narrative>\n")
            else:
                out.write(f'<participating-org ref="XM-WIDE-O{n}" role="4" type="22">'
                          f"<narrative>Partner {n}</narrative></participating-org>\n")
        out.write(("</participating-org>\n" if nested else "") + "</iati-activity>\n</iati-activities>\n")


def cli_peak(path: Path, output: Path) -> dict[str, object]:
    """Peak RSS (MB), wall time and exit status of ``d4d import iati PATH -o OUTPUT`` in its own process."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "d4d.cli", "import", "iati", str(path), "--project", str(ROOT),
                             "-o", str(output)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stderr is not None
    stderr = proc.stderr.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    lines = [line for line in stderr.splitlines() if line.strip()]
    return {"peak_mb": usage.ru_maxrss / 1024.0, "seconds": time.perf_counter() - started,
            "exit": proc.returncode, "said": lines[0] if lines else ""}


def wide_main() -> None:
    """The ``--wide`` measurement."""
    from d4d.imports.iati import CHUNK_BYTES
    from d4d.limits import ACTIVITY_BYTES

    with tempfile.TemporaryDirectory(prefix="d4d-bench-wide-") as tmp:
        work = Path(tmp)
        # the widest activity read whole: the bound less two of the parser's chunks, over the longest line
        line = '<participating-org ref="XM-WIDE-O999999" role="4" type="22"><narrative>Partner 999999</narrative></participating-org>\n'
        within = (ACTIVITY_BYTES - 2 * CHUNK_BYTES) // len(line)
        cases: list[tuple[str, Path, Callable[[Path], None]]] = [
                 ("1,000 normal activities", work / "normal.xml", lambda p: write_synthetic(p, 1000)),
                 ("one activity, 1,000,000 participating-orgs", work / "wide.xml", lambda p: write_wide(p, 1_000_000)),
                 ("one participating-org, 1,000,000 names", work / "deep.xml",
                  lambda p: write_wide(p, 1_000_000, nested=True)),
                 (f"one activity, {within:,} participating-orgs (within the bound)", work / "within.xml",
                  lambda p: write_wide(p, within))]
        print("| file | MB | exit | peak RSS MB | wall s |")
        print("|---|---:|---:|---:|---:|")
        for name, path, write in cases:
            write(path)
            result = cli_peak(path, work / "out.nq")
            print(f"| {name} | {path.stat().st_size / 1e6:.1f} | {result['exit']} | {result['peak_mb']:.0f} | "
                  f"{result['seconds']:.1f} |", flush=True)
            print(f"<!-- {str(result['said'])[:300]} -->", flush=True)
            path.unlink()


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def child_import(path: str, store_dir: str, dump: str) -> dict[str, object]:
    import pyoxigraph as ox

    from d4d.imports import SourceSpec, import_source

    before = _peak_mb()
    store = ox.Store(store_dir)
    started = time.perf_counter()
    report = import_source(store, SourceSpec("bench", "iati", (Path(path),)))
    store.flush()
    seconds = time.perf_counter() - started
    peak = _peak_mb()
    if dump:
        store.dump(dump, format=ox.RdfFormat.N_QUADS)
    return {"seconds": seconds, "peak_mb": peak, "start_mb": before, "quads": report.quads,
            "activities": report.counts["activities"], "problems": report.problem_count}


def child_parse(path: str) -> dict[str, object]:
    from lxml import etree

    started = time.perf_counter()
    n = 0
    for _, elem in etree.iterparse(path, events=("end",), tag="iati-activity", resolve_entities=False,
                                   no_network=True, huge_tree=False, load_dtd=False):
        n += 1
        elem.clear(keep_tail=False)
        parent = elem.getparent()
        while elem.getprevious() is not None:
            del parent[0]
    return {"seconds": time.perf_counter() - started, "peak_mb": _peak_mb(), "activities": n}


def child_bulk(dump: str, store_dir: str) -> dict[str, object]:
    import pyoxigraph as ox

    started = time.perf_counter()
    store = ox.Store(store_dir)
    store.bulk_load(path=dump, format=ox.RdfFormat.N_QUADS)
    store.flush()
    return {"seconds": time.perf_counter() - started, "peak_mb": _peak_mb(), "quads": len(store)}


def run_child(*args: str) -> dict[str, object]:
    """Run one measurement in a fresh interpreter (so peak memory is its own)."""
    out = subprocess.run([sys.executable, __file__, "--child", *args], check=True, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10_000, 100_000])
    parser.add_argument("--out", type=Path, default=ROOT / "bench/RESULTS-import.md")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--wide", action="store_true", help="the bound on one activity: peak RSS of `d4d import -o`")
    args = parser.parse_args()
    if args.wide:
        wide_main()
        return
    if args.child:
        kind, *rest = args.child
        result = {"import": child_import, "parse": child_parse, "bulk": child_bulk}[kind](*rest)
        print(json.dumps(result))
        return

    rows = []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="d4d-bench-import-") as tmp:
        work = Path(tmp)
        cases: list[tuple[str, Path]] = []
        for size in args.sizes:
            path = work / f"synthetic-{size}.xml"
            write_synthetic(path, size)
            cases.append((f"synthetic {size:,}", path))
        if COVID.is_file():
            cases.append(("covid/dportal.xml (real)", COVID))
        for name, path in cases:
            dump = work / f"{path.stem}.nq"
            imported = run_child("import", str(path), str(work / f"store-{path.stem}"), str(dump))
            parsed = run_child("parse", str(path))
            bulk = run_child("bulk", str(dump), str(work / f"bulk-{path.stem}"))
            row = {"case": name, "mb": path.stat().st_size / 1e6, **{f"import_{k}": v for k, v in imported.items()},
                   "parse_seconds": parsed["seconds"], "parse_peak_mb": parsed["peak_mb"],
                   "bulk_seconds": bulk["seconds"], "bulk_peak_mb": bulk["peak_mb"]}
            rows.append(row)
            print(f"{name:28} {row['mb']:8.1f} MB  {imported['activities']:>8} act  {imported['quads']:>10} quads  "
                  f"import {imported['seconds']:7.1f} s  peak {imported['peak_mb']:6.0f} MB  "
                  f"parse {parsed['seconds']:6.1f} s  bulk_load {bulk['seconds']:6.1f} s", flush=True)
    load_after = os.getloadavg()[0]
    lines = [
        "# Streaming IATI import (bench/bench_import.py)",
        "",
        f"Measured by `python bench/bench_import.py` on this machine (2 cores, shared with other work: load",
        f"average {load_before:.1f} at the start, {load_after:.1f} at the end; times scale with it). Each run",
        "is a fresh process importing into an on-disk pyoxigraph store. *Parse only* is lxml iterparse over",
        "the same file (the floor for reading XML); *bulk_load* is pyoxigraph's bulk load of the N-Quads the",
        "import wrote (the store's own load rate). Peak memory is the process's maximum resident set size.",
        "",
        "| case | file MB | activities | quads | import s | quads/s | peak RSS MB | parse only s | bulk_load s | import / bulk_load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['case']} | {r['mb']:.1f} | {r['import_activities']:,} | {r['import_quads']:,} | "
                     f"{r['import_seconds']:.1f} | {r['import_quads'] / max(r['import_seconds'], 1e-9):,.0f} | "
                     f"{r['import_peak_mb']:.0f} | {r['parse_seconds']:.1f} | {r['bulk_seconds']:.1f} | "
                     f"{r['import_seconds'] / max(r['bulk_seconds'], 1e-9):.1f}x |")
    lines += ["", "Memory stays flat when the peak RSS is about the same at every size: activities are parsed",
              "one at a time and cleared, and triples go to the store in batches of 50,000 (bulk loaded: the",
              "transactional `Store.extend` held whole batches in memory on disk stores and grew to 0.9 GB at",
              "1M quads). What does grow is what identity remembers per distinct organisation (its node, the",
              "names, kinds and sectors already written): about 1-2 kB each. The synthetic organisations are a",
              f"bounded set ({ORGANISATIONS:,} funders and charities with org-ids, {PUBLISHERS} publishers with",
              f"{LOCAL_PARTNERS} name-only partners each), as partners recur in real data."]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
