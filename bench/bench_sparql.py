"""Benchmark of the SPARQL layer: the catalogue on synthetic ecosystems of 10k, 100k and 1M relationships.

For each size the script

1. generates an ecosystem in the ontology's terms: organisations (in one or two of the eight sectors)
   and people, and relationships of every type in the proportions of the seed facts in ``graph/``
   (counted at start-up), each cited from one or two source documents, with amounts, currencies,
   dates, roles, places and titles where the type has them;
2. materialises what the ontology entails with the build's own rules (``d4d.reason``) and engine
   (``d4d.reason.materialise``), as the build does;
3. writes the store with ``d4d.store.write_store`` as ``d4d build`` leaves it (ontology, facts and
   inferences in their named graphs, and their merge in the default graph) and, for comparison, a bare
   ``pyoxigraph.Store`` holding the same triples in its default graph and nothing else;
4. times every catalogue query (median of ``--repeat`` runs, results read to the end) four ways:
   through d4d (``run_query`` on the built store), the bound query text run by pyoxigraph on the
   same store (d4d without its Python layer, up to ``--store-max`` relationships), the same text
   on the bare store (the engine's floor), each in a process of its own stopped after ``--limit``
   seconds, and on rdflib's own engine (up to ``--rdflib-max`` relationships, each query in a
   forked process killed after ``--rdflib-timeout`` seconds).

It prints a table per size and writes ``bench/RESULTS-sparql.md``.

Usage::

    python bench/bench_sparql.py                      # 10k, 100k, 1M
    python bench/bench_sparql.py --sizes 10000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
import gc
import multiprocessing
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from d4d import reason  # noqa: E402
from d4d.load import load  # noqa: E402
from d4d.sparql import CatalogueQuery, bind, load_catalogue, resolve_params, run_query  # noqa: E402
from d4d.store import open_store, write_store  # noqa: E402
from d4d.vocab import GRAPH  # noqa: E402

D4D = "https://w3id.org/d4d/ontology#"
ID = "https://w3id.org/d4d/id/"
SECTOR = "https://w3id.org/d4d/sector/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
XSD = "http://www.w3.org/2001/XMLSchema#"
SECTORS = ["humanitarian", "development", "academia", "technology", "philanthropy", "media", "government",
           "civil-society"]
KINDS = {"humanitarian": "NGO", "development": "InternationalOrganization", "academia": "University",
         "technology": "Company", "philanthropy": "Foundation", "media": "MediaOutlet",
         "government": "GovernmentBody", "civil-society": "NGO"}
#: Roles of each relationship type: (source role, target role, who may be the source).
ROLES = {
    "Funding": ("funder", "recipient", "org"), "Founding": ("founder", "foundedOrganization", "any"),
    "Incubation": ("incubator", "incubatedOrganization", "org"), "Membership": ("member", "organization", "person"),
    "SubOrganization": ("unit", "parent", "org"), "Support": ("supporter", "supported", "org"),
    "MediaCoverage": ("outlet", "subject", "media"), "Partnership": ("partner", "partner", "org"),
}
#: Queries whose answer concerns one actor or a few: the "selective" targets apply to them.
SELECTIVE = {"actor-profile", "chain", "actors", "neighbours", "ego-network", "funding@funder",
             "founders@organization", "co-founders", "media-coverage"}


# ---------------------------------------------------------------------------------------------
# The synthetic ecosystem


def seed_proportions() -> dict[str, int]:
    """How many relationships of each type the seed facts hold (graph/)."""
    loaded = load(ROOT / "ontology", ROOT / "graph")
    counts: dict[str, int] = {}
    for kind in ROLES:
        counts[kind] = sum(1 for _ in loaded.facts.graph.subjects(
            predicate=__import__("rdflib").RDF.type, object=__import__("rdflib").URIRef(D4D + kind)))
    return {k: v for k, v in counts.items() if v}


@dataclass
class Ecosystem:
    """N-Triples of the asserted facts, and the parameters the timed queries use."""

    ntriples: bytes
    relationships: int
    actors: int
    counts: dict[str, int]
    params: dict[str, dict[str, str]] = field(default_factory=dict)


def _lit(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def generate(relationships: int, proportions: dict[str, int], *, seed: int = 7) -> Ecosystem:
    """An ecosystem of about ``relationships`` relationships, half as many actors (27 % people, as in
    the seeds), degree-biased so that hubs emerge; everything cited from source documents."""
    rng = random.Random(seed)
    lines: list[str] = []
    add = lines.append
    n_actors = max(50, relationships // 2)
    n_sources = max(10, relationships // 1000)
    people: list[int] = []
    orgs: list[int] = []
    media: list[int] = []
    sector_of: dict[int, list[str]] = {}
    for k in range(n_sources):
        s = f"<{ID}syn-source-{k}>"
        add(f"{s} <{RDF_TYPE}> <{D4D}SourceDocument> .")
        add(f"{s} <{D4D}title> {_lit(f'Source document {k}')} .")
        add(f"{s} <{RDFS_LABEL}> {_lit(f'Source document {k}')} .")
        add(f"{s} <{D4D}fromSeeds> \"false\"^^<{XSD}boolean> .")
    place = f"<{ID}syn-place-0>"
    add(f"{place} <{RDF_TYPE}> <{D4D}Place> .")
    add(f"{place} <{D4D}name> {_lit('Synthetic City')} .")

    def cite(subject: str, count: int) -> None:
        for number in range(1, count + 1):
            citation = f"<{subject[1:-1]}/citation/{number}>"
            add(f"{subject} <{D4D}citation> {citation} .")
            add(f"{citation} <{RDF_TYPE}> <{D4D}Citation> .")
            add(f"{citation} <{D4D}citedSource> <{ID}syn-source-{rng.randrange(n_sources)}> .")
            add(f"{citation} <{D4D}quote> {_lit(f'Quote {number} about {subject[len(ID) + 1:-1]}')} .")

    for i in range(n_actors):
        iri = f"<{ID}syn-actor-{i}>"
        if rng.random() < 0.27:
            people.append(i)
            name = f"Person {i}"
            add(f"{iri} <{RDF_TYPE}> <{D4D}Person> .")
        else:
            orgs.append(i)
            name = f"Organisation {i}"
            sectors = rng.sample(SECTORS, 2 if rng.random() < 0.3 else 1)
            sector_of[i] = sectors
            add(f"{iri} <{RDF_TYPE}> <{D4D}{KINDS[sectors[0]]}> .")
            if "media" in sectors:
                media.append(i)
            for sector in sectors:
                add(f"{iri} <{D4D}sector> <{SECTOR}{sector}> .")
        add(f"{iri} <{D4D}name> {_lit(name)} .")
        add(f"{iri} <{RDFS_LABEL}> {_lit(name)} .")
        cite(iri, 1)

    # degree-biased choice: half of the picks repeat an earlier pick, so popular actors attract more
    chosen: dict[str, list[int]] = {"org": [], "person": [], "media": [], "any": []}
    pools = {"org": orgs, "person": people, "media": media or orgs, "any": orgs + people}

    def pick(pool: str) -> int:
        history = chosen[pool]
        value = rng.choice(history) if history and rng.random() < 0.5 else rng.choice(pools[pool])
        history.append(value)
        return value

    total = sum(proportions.values())
    counts = {kind: max(1, round(relationships * n / total)) for kind, n in proportions.items()}
    degree: dict[int, int] = defaultdict(int)
    adjacency: dict[int, set[int]] = defaultdict(set)
    founders_of: dict[int, int] = defaultdict(int)
    funder_grants: dict[int, int] = defaultdict(int)
    covered: dict[int, int] = defaultdict(int)
    j = 0
    for kind, count in counts.items():
        source_role, target_role, source_pool = ROLES[kind]
        for _ in range(count):
            j += 1
            fact = f"<{ID}syn-{kind.lower()}-{j}>"
            a = pick(source_pool)
            b = pick("org")
            while b == a:
                b = rng.choice(orgs)
            add(f"{fact} <{RDF_TYPE}> <{D4D}{kind}> .")
            add(f"{fact} <{D4D}{source_role}> <{ID}syn-actor-{a}> .")
            add(f"{fact} <{D4D}{target_role}> <{ID}syn-actor-{b}> .")
            add(f"{fact} <{RDFS_LABEL}> {_lit(f'{kind}: {a} → {b}')} .")
            year = rng.randint(1990, 2024)
            if kind == "Funding":
                add(f"{fact} <{D4D}amount> \"{rng.randrange(10, 5000) * 1000}\"^^<{XSD}decimal> .")
                add(f"{fact} <{D4D}currency> {_lit(rng.choices(['USD', 'EUR', 'GBP'], [8, 1, 1])[0])} .")
                add(f"{fact} <{D4D}date> \"{year}\"^^<{XSD}gYear> .")
                funder_grants[a] += 1
            elif kind == "Founding":
                add(f"{fact} <{D4D}date> \"{year}\"^^<{XSD}gYear> .")
                founders_of[b] += 1
            elif kind == "Incubation":
                add(f"{fact} <{D4D}location> {place} .")
                add(f"{fact} <{D4D}startDate> \"{year}\"^^<{XSD}gYear> .")
            elif kind == "Membership":
                add(f"{fact} <{D4D}roleTitle> {_lit('Director')} .")
            elif kind == "MediaCoverage":
                add(f"{fact} <{D4D}date> \"{year}-{rng.randint(1, 12):02d}\"^^<{XSD}gYearMonth> .")
                add(f"{fact} <{D4D}title> {_lit(f'Article {j}')} .")
                covered[b] += 1
            cite(fact, 2 if rng.random() < 0.3 else 1)
            degree[a] += 1
            degree[b] += 1
            adjacency[a].add(b)
            adjacency[b].add(a)

    ecosystem = Ecosystem(("\n".join(lines) + "\n").encode("utf-8"), relationships=sum(counts.values()),
                          actors=n_actors, counts=counts)
    # parameters: a well-connected but not extreme actor (90th percentile of degree), chains of three
    ranked = sorted(degree, key=lambda x: (degree[x], x))
    typical = ranked[int(len(ranked) * 0.9)]
    start = ranked[len(ranked) // 2]
    far = _at_distance(adjacency, start, 3) or typical
    actor = f"<{ID}syn-actor-{typical}>"
    # a typical founded organisation (90th percentile of founders, as for the actor above), not the
    # generator's largest hub (thousands of founders at a million relationships)
    by_founders = sorted(founders_of, key=lambda x: (founders_of[x], x))
    founded = by_founders[int(len(by_founders) * 0.9)]
    ecosystem.params = {
        "actor-profile": {"actor": actor}, "neighbours": {"actor": actor}, "ego-network": {"actor": actor},
        "chain": {"from": f"<{ID}syn-actor-{start}>", "to": f"<{ID}syn-actor-{far}>"},
        "actors": {"name": f"Organisation {orgs[len(orgs) // 3]}"},
        "actors@contains": {"contains": f"organisation {orgs[len(orgs) // 3]}"},
        "funding@funder": {"funder": f"<{ID}syn-actor-{max(funder_grants, key=lambda x: (funder_grants[x], -x))}>"},
        "founders@organization": {"organization": f"<{ID}syn-actor-{founded}>"},
        "co-founders": {"organization": f"<{ID}syn-actor-{founded}>"},
        "media-coverage": {"subject": f"<{ID}syn-actor-{max(covered, key=lambda x: (covered[x], -x))}>"},
        "facts-by-source": {"source": f"<{ID}syn-source-1>"},
        "timeline": {"from_year": "2020"},
    }
    return ecosystem


def _at_distance(adjacency: dict[int, set[int]], start: int, distance: int) -> int | None:
    seen = {start: 0}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if seen[node] == distance:
            return node
        for nxt in sorted(adjacency[node]):
            if nxt not in seen:
                seen[nxt] = seen[node] + 1
                queue.append(nxt)
    return None


# ---------------------------------------------------------------------------------------------
# Building the stores


def materialise(ecosystem: Ecosystem, folder: Path) -> tuple[dict[str, Path], float]:
    """Write the ontology, the facts and the inferred triples as N-Triples files in ``folder``.

    The rules run in an on-disk store (a million relationships give tens of millions of triples,
    too many for memory), with the build's engine (``d4d.reason.materialise``). Returns the files by named
    graph and the seconds the rules took.
    """
    loaded = load(ROOT / "ontology", ROOT / "graph")  # the ontology (and its sectors) as the build reads it
    files = {str(GRAPH["ontology"]): folder / "ontology.nt", str(GRAPH["facts"]): folder / "facts.nt",
             str(reason.INFERRED): folder / "inferred.nt"}
    files[str(GRAPH["ontology"])].write_bytes(loaded.ontology.graph.serialize(format="nt", encoding="utf-8"))
    files[str(GRAPH["facts"])].write_bytes(ecosystem.ntriples)
    ecosystem.ntriples = b""  # 2 GB at a million relationships: the file holds them now
    work = folder / "reasoning-store"
    store = ox.Store(str(work))
    for graph, path in files.items():
        if path.exists():
            store.bulk_load(path=str(path), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(graph))
    started = time.perf_counter()
    # the build's own engine (d4d.reason.materialise: the rules run in the store to a fixpoint)
    reason.materialise(store, reason.all_rules(loaded.ontology), into=str(reason.INFERRED))
    seconds = time.perf_counter() - started
    store.dump(str(files[str(reason.INFERRED)]), ox.RdfFormat.N_TRIPLES,
               from_graph=ox.NamedNode(str(reason.INFERRED)))
    del store
    shutil.rmtree(work, ignore_errors=True)
    return files, seconds


def directory_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


# ---------------------------------------------------------------------------------------------
# Timing


def median_ms(action: Any, repeat: int, *, patience: float = 10.0) -> tuple[float, int, int]:
    """Median time of ``repeat`` runs in ms, the rows of the last run, and the runs made: a query
    slower than ``patience`` seconds is not repeated."""
    times = []
    rows = 0
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        rows = action()
        times.append((time.perf_counter() - started) * 1000)
        if times[-1] > patience * 1000:
            break
    return statistics.median(times), rows, len(times)


def through_d4d(store: ox.Store, query: CatalogueQuery, params: dict[str, str]) -> int:
    result = run_query(query, store=store, params=params)
    if result.triples is not None:
        return len(result.triples)
    return len(result.rows())


def bare(store: ox.Store, text: str) -> int:
    """Run the text on pyoxigraph (the store's default graph) and read every value of every row (as d4d does)."""
    answer = store.query(text)
    if isinstance(answer, ox.QueryBoolean):
        return 1
    count = 0
    for row in answer:
        for _ in row:
            pass
        count += 1
    return count


def _way_child(way: str, path: str, name: str, values: dict[str, str], text: str, repeat: int,
               conn: Any) -> None:  # runs in a spawned process: it opens the store read-only itself
    try:
        if way == "d4d":
            store = open_store(path)
            query = load_catalogue(ROOT / "queries")[name]
            conn.send(median_ms(lambda: through_d4d(store, query, values), repeat))
        else:
            store = ox.Store.read_only(path)
            conn.send(median_ms(lambda: bare(store, text), repeat))
    except Exception as error:  # a query the engine cannot run: say so instead of a number
        conn.send(f"{type(error).__name__}: {error}")


def _in_process(start_method: str, target: Any, args: tuple[Any, ...], seconds: float) -> Any:
    """Run ``target(*args, conn)`` in a process of its own and return what it sends through ``conn``,
    or None when it has sent nothing after ``seconds`` (the process is then killed)."""
    context = multiprocessing.get_context(start_method)
    parent, child = context.Pipe()
    process = context.Process(target=target, args=(*args, child))
    process.start()
    if parent.poll(seconds):
        answer = parent.recv()
        process.join()
        return answer
    process.kill()
    process.join()
    return None


def timed(way: str, path: Path, name: str, values: dict[str, str], text: str, repeat: int,
          limit: float) -> tuple[float | None, int | None, int]:
    """Median ms, rows and runs of one query one way ("d4d", "store" or "bare"), in its own process,
    stopped after ``limit`` seconds: (None, None, 0) when stopped."""
    # the child's start-up (imports, opening the store) is not timed: 30 s more for it
    answer = _in_process("spawn", _way_child, (way, str(path), name, values, text, repeat), limit + 30)
    if answer is None:
        return None, None, 0
    if isinstance(answer, str):
        raise RuntimeError(f"{name} ({way}): {answer}")
    return answer


_RDFLIB_GRAPH: Any = None


def _rdflib_child(text: str, repeat: int, conn: Any) -> None:  # runs in a forked process
    times = []
    rows = 0
    try:
        for _ in range(repeat):
            started = time.perf_counter()
            rows = sum(1 for _ in _RDFLIB_GRAPH.query(text))
            times.append((time.perf_counter() - started) * 1000)
    except Exception as error:  # rdflib cannot run this query: say so instead of a number
        conn.send((None, f"{type(error).__name__}: {error}"))
        return
    conn.send((statistics.median(times), rows))


def rdflib_ms(text: str, repeat: int, timeout: float) -> tuple[float | None, int | None]:
    answer = _in_process("fork", _rdflib_child, (text, repeat), timeout)  # forked: it shares the parsed graph
    if answer is None:
        return None, None
    ms, rows = answer
    if ms is None:
        print(f"  rdflib fails: {rows}", flush=True)
        return None, -1
    return ms, rows


@dataclass
class Row:
    run: str
    kind: str
    rows: int | None
    d4d_ms: float | None  # None: stopped after the time limit
    bare_ms: float | None
    rdflib_ms: float | None = None
    rdflib_rows: int | None = None
    runs: int = 1
    engine_ms: float | None = None  # None: stopped, or not run at this size


@dataclass
class SizeResult:
    relationships: int
    actors: int
    triples: int
    generate_s: float
    reason_s: float
    load_s: float
    bare_load_s: float
    store_mb: float
    bare_mb: float
    rdflib_load_s: float | None
    rows: list[Row]


def kind_of(label: str, query: CatalogueQuery) -> str:
    """selective (about one actor or a few), aggregate (GROUP BY, COUNT...) or listing (every match)."""
    if label in SELECTIVE:
        return "selective"
    upper = query.text.upper()
    if "GROUP BY" in upper or "COUNT(" in upper or "MIN(" in upper:
        return "aggregate"
    return "listing"


def runs(catalogue: dict[str, CatalogueQuery], params: dict[str, dict[str, str]]) -> list[tuple[str, str, dict[str, str]]]:
    """(label, query name, parameters): every catalogue query, some with a selective parameter too."""
    plan = []
    for name in catalogue:
        plan.append((name, name, params.get(name, {})))
    for label, values in params.items():
        if "@" in label:
            plan.append((label, label.split("@")[0], values))
    return plan


def bench_size(relationships: int, proportions: dict[str, int], catalogue: dict[str, CatalogueQuery], *,
               repeat: int, rdflib_max: int, rdflib_timeout: float, workdir: Path, limit: float,
               store_max: int) -> SizeResult:
    global _RDFLIB_GRAPH
    print(f"\n== {relationships:,} relationships", flush=True)
    started = time.perf_counter()
    ecosystem = generate(relationships, proportions)
    generate_s = time.perf_counter() - started
    folder = workdir / f"size-{relationships}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    files, reason_s = materialise(ecosystem, folder)
    print(f"generated in {generate_s:.1f} s, materialised in {reason_s:.1f} s", flush=True)

    started = time.perf_counter()
    # as the build leaves its store: the asserted graphs named, and in the default graph their merge
    # and the inferences (these only there)
    inferred = str(reason.INFERRED)
    write_store(folder / "store", [(path, None if graph == inferred else graph) for graph, path in files.items()],
                format="ntriples", merge=True)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    bare_store = ox.Store(str(folder / "bare"))
    for path in files.values():
        bare_store.bulk_load(path=str(path), format=ox.RdfFormat.N_TRIPLES)
    bare_store.flush()
    bare_store.optimize()  # compacted, as d4d.store.write_store leaves its store: the engine at its best
    bare_load_s = time.perf_counter() - started
    triples = len(bare_store)
    print(f"{triples:,} triples; d4d store {load_s:.1f} s, bare store {bare_load_s:.1f} s", flush=True)
    del bare_store
    gc.collect()  # the timed queries open both stores read-only in their own processes
    rdflib_load_s = None
    if relationships <= rdflib_max:
        import rdflib
        started = time.perf_counter()
        _RDFLIB_GRAPH = rdflib.Graph()
        for path in files.values():
            _RDFLIB_GRAPH.parse(str(path), format="nt")
        rdflib_load_s = time.perf_counter() - started
        print(f"rdflib parsed in {rdflib_load_s:.1f} s", flush=True)
    gc.collect()

    rows = []
    for label, name, values in runs(catalogue, ecosystem.params):
        query = catalogue[name]
        text = bind(query.text, resolve_params(query, values))
        through_ms, count, runs_made = timed("d4d", folder / "store", name, values, text, repeat, limit)
        runs_made = max(runs_made, 1)
        engine_ms = None
        if relationships <= store_max:
            engine_ms, _, _ = timed("store", folder / "store", name, values, text, runs_made, limit)
        floor_ms, floor_rows, _ = timed("bare", folder / "bare", name, values, text, runs_made, limit)
        if count is not None and floor_rows is not None and floor_rows != count:
            print(f"  !! {label}: {count} rows through d4d, {floor_rows} on the bare store", flush=True)
        count = count if count is not None else floor_rows
        row = Row(label, kind_of(label, query), count, through_ms, floor_ms, runs=runs_made, engine_ms=engine_ms)
        if _RDFLIB_GRAPH is not None:
            row.rdflib_ms, row.rdflib_rows = rdflib_ms(text, max(1, min(repeat, 3)), rdflib_timeout)
            if row.rdflib_rows is not None and row.rdflib_rows >= 0 and row.rdflib_rows != count:
                print(f"  !! {label}: rdflib returns {row.rdflib_rows} rows, pyoxigraph {count}", flush=True)
        rows.append(row)
        print(f"  {label:32} {row.kind:9} {'?' if count is None else count:>9} rows  d4d {_ms(through_ms):>9} ms"
              f"  store {_ms(engine_ms):>9} ms  bare {_ms(floor_ms):>9} ms"
              f"  rdflib {_ms(row.rdflib_ms):>9} ms  ({runs_made} runs)", flush=True)
    _RDFLIB_GRAPH = None
    result = SizeResult(ecosystem.relationships, ecosystem.actors, triples, generate_s, reason_s, load_s,
                        bare_load_s, directory_size(folder / "store") / 1e6, directory_size(folder / "bare") / 1e6,
                        rdflib_load_s, rows)
    gc.collect()
    shutil.rmtree(folder, ignore_errors=True)
    return result


# ---------------------------------------------------------------------------------------------
# Report


def _ms(value: float | None, stopped: float | None = None) -> str:
    """A time in ms; None is "—", or "> N s" when the query was stopped after ``stopped`` seconds."""
    if value is None:
        return "—" if stopped is None else f"> {stopped:.0f} s"
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "—"
    return f"{a / b:.2f}" if a / b < 10 else f"{a / b:.0f}"


def _rdflib_cell(row: Row, size: SizeResult) -> str:
    if size.rdflib_load_s is None:
        return "—"
    if row.rdflib_rows == -1:
        return "fails"
    if row.rdflib_ms is None:
        return "stopped"
    return _ms(row.rdflib_ms)


def report(results: list[SizeResult], *, repeat: int, rdflib_timeout: float, stopped: float,
           store_max: int) -> str:
    out = ["# SPARQL benchmark: the catalogue on synthetic ecosystems", "",
           f"Generated by `python bench/bench_sparql.py` on {platform.node() or 'this machine'} "
           f"({os.cpu_count()} cores, Python {platform.python_version()}, pyoxigraph {ox.__version__ if hasattr(ox, '__version__') else ''}"
           f"), {time.strftime('%Y-%m-%d')}. Median of {repeat} runs (1 run for a query slower than 10 s), "
           f"results read to the end. Each query runs in a process of its own, stopped after {stopped:.0f} s "
           "(\"> N s\").", "",
           "- **d4d**: `d4d.sparql.run_query` on the store as `d4d build` writes it (named graphs, and their merge "
           "in the default graph, which queries read), "
           "parameters bound, rows turned into Python dicts.",
           "- **store**: the bound query text run by pyoxigraph directly on that same store (its default graph): "
           f"d4d minus the Python layer (parameter binding, reading the rows into dicts); measured up to "
           f"{store_max:,} relationships.",
           "- **bare**: the same bound query text on a plain `pyoxigraph.Store` holding the same triples in its "
           "default graph: the engine's floor.",
           f"- **rdflib**: the same text on rdflib's own SPARQL engine over an in-memory `rdflib.Graph` "
           f"(a query is stopped after {rdflib_timeout:.0f} s; not run at the largest size).", ""]
    out += ["## Sizes", "", "| relationships | actors | triples | generate s | rules s | d4d store load s | "
            "bare load s | d4d store MB | bare MB | rdflib parse s |", "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        out.append(f"| {r.relationships:,} | {r.actors:,} | {r.triples:,} | {r.generate_s:.1f} | {r.reason_s:.1f} | "
                   f"{r.load_s:.1f} | {r.bare_load_s:.1f} | {r.store_mb:,.0f} | {r.bare_mb:,.0f} | "
                   f"{'—' if r.rdflib_load_s is None else f'{r.rdflib_load_s:.1f}'} |")
    for r in results:
        out += ["", f"## {r.relationships:,} relationships ({r.triples:,} triples)", "",
                "| query | kind | rows | d4d ms | store ms | bare ms | d4d / store | d4d / bare | rdflib ms | rdflib / d4d |",
                "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for row in r.rows:
            out.append(f"| {row.run} | {row.kind} | {'—' if row.rows is None else f'{row.rows:,}'} | "
                       f"{_ms(row.d4d_ms, stopped)} | {_ms(row.engine_ms, stopped if r.relationships <= store_max else None)} | "
                       f"{_ms(row.bare_ms, stopped)} | "
                       f"{_ratio(row.d4d_ms, row.engine_ms)} | "
                       f"{_ratio(row.d4d_ms, row.bare_ms)} | "
                       f"{_rdflib_cell(row, r)} | "
                       f"{_ratio(row.rdflib_ms, row.d4d_ms)} |")
    out += ["", "## Targets", ""]
    largest = results[-1]
    selective = [row for row in largest.rows if row.kind == "selective"]
    aggregate = [row for row in largest.rows if row.kind != "selective"]
    slow = [f"{row.run} ({_ms(row.d4d_ms, stopped)} ms, {'?' if row.rows is None else f'{row.rows:,}'} rows)"
            for row in selective if row.d4d_ms is None or row.d4d_ms >= 50]
    out.append(f"- Selective queries under 50 ms at {largest.relationships:,} relationships: "
               f"{len(selective) - len(slow)} of {len(selective)}" + (f"; over: {', '.join(slow)}" if slow else "") + ".")
    timed_both = [row for row in aggregate if row.d4d_ms is not None and row.bare_ms is not None]
    heavy = [f"{row.run} ({_ratio(row.d4d_ms, row.bare_ms)}x)" for row in timed_both
             if row.d4d_ms > 1.5 * row.bare_ms and row.d4d_ms - row.bare_ms > 5]  # type: ignore[operator]
    unmeasured = [row.run for row in aggregate if row not in timed_both]
    out.append(f"- Aggregates and listings within 1.5x of the bare engine: {len(timed_both) - len(heavy)} of "
               f"{len(timed_both)} timed both ways" + (f"; beyond: {', '.join(heavy)}" if heavy else "")
               + (f"; stopped after {stopped:.0f} s one way or both: {', '.join(unmeasured)}" if unmeasured else "")
               + ".")
    with_store = [r for r in results if any(row.engine_ms is not None for row in r.rows)]
    if with_store:
        r = with_store[-1]
        both = [row for row in r.rows if row.d4d_ms is not None and row.engine_ms is not None]
        over = [f"{row.run} ({_ratio(row.d4d_ms, row.engine_ms)}x)" for row in both
                if row.d4d_ms > 1.5 * row.engine_ms and row.d4d_ms - row.engine_ms > 5]  # type: ignore[operator]
        out.append(f"- d4d's own layer (d4d / store, same store) at {r.relationships:,} relationships: within 1.5x "
                   f"for {len(both) - len(over)} of {len(both)} queries"
                   + (f"; beyond: {', '.join(over)}" if over else "") + ", median ratio "
                   f"{statistics.median([row.d4d_ms / row.engine_ms for row in both]):.2f}x.")  # type: ignore[operator]
    with_rdflib = [r for r in results if r.rdflib_load_s is not None]
    if with_rdflib:
        r = with_rdflib[-1]
        for kind, target in (("aggregate", 5), ("listing", 5), ("selective", 20)):
            # a stopped rdflib query took at least the time limit: its ratio is a lower bound
            ratios = [(row.rdflib_ms or rdflib_timeout * 1000) / row.d4d_ms for row in r.rows
                      if row.kind == kind and row.rdflib_rows != -1 and row.d4d_ms]
            bounded = any(row.rdflib_ms is None for row in r.rows
                          if row.kind == kind and row.rdflib_rows != -1 and row.d4d_ms)
            met = sum(1 for x in ratios if x >= target)
            median_ratio = statistics.median(ratios) if ratios else float("nan")
            out.append(f"- rdflib / d4d on {kind} queries at {r.relationships:,} relationships (target ≥ {target}x): "
                       f"met by {met} of {len(ratios)}, median ratio {'at least ' if bounded else ''}"
                       f"{median_ratio:.0f}x (a query rdflib did not finish in {rdflib_timeout:.0f} s counts as "
                       "that long; queries rdflib fails on are left out).")
    return "\n".join(out) + "\n"


def load_results(path: Path) -> list[SizeResult]:
    """Measurements saved by an earlier run (--json)."""
    results = []
    for entry in json.loads(path.read_text(encoding="utf-8")):
        rows = [Row(**row) for row in entry.pop("rows")]
        results.append(SizeResult(**entry, rows=rows))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="relationships per ecosystem, comma-separated (\"\" with --include: report earlier runs)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per query (the median is reported)")
    parser.add_argument("--rdflib-max", type=int, default=100_000, help="largest size rdflib is run on")
    parser.add_argument("--rdflib-timeout", type=float, default=120.0, help="seconds before an rdflib query is stopped")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS-sparql.md")
    parser.add_argument("--workdir", type=Path, default=None, help="where the stores are written (default: a temp dir)")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "out" / "sparql-results.json",
                        help="where to keep the measurements (to combine runs with --include)")
    parser.add_argument("--limit", type=float, default=300.0,
                        help="seconds after which a query (all its runs, one way) is stopped")
    parser.add_argument("--store-max", type=int, default=100_000,
                        help="largest size the 'store' column (pyoxigraph on d4d's store) is measured at")
    parser.add_argument("--include", type=Path, nargs="*", default=[],
                        help="measurements of earlier runs (--json files) to report with this one")
    args = parser.parse_args()
    catalogue = load_catalogue(ROOT / "queries")
    proportions = seed_proportions()
    print("relationship types in the seed facts:", proportions, flush=True)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="d4d-bench-sparql-"))
    previous = [result for path in args.include for result in load_results(path)]
    results: list[SizeResult] = []
    for size in [int(x) for x in args.sizes.split(",") if x]:
        results.append(bench_size(size, proportions, catalogue, repeat=args.repeat, rdflib_max=args.rdflib_max,
                                  rdflib_timeout=args.rdflib_timeout, workdir=workdir, limit=args.limit,
                                  store_max=args.store_max))
        # written after every size, so that a long run stopped at the largest keeps the others
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps([asdict(r) for r in results], indent=1), encoding="utf-8")
        text = report(sorted(previous + results, key=lambda r: r.relationships), repeat=args.repeat,
                      rdflib_timeout=args.rdflib_timeout, stopped=args.limit, store_max=args.store_max)
        args.out.write_text(text, encoding="utf-8")
    if not results:  # --sizes "" --include ...: the report of earlier runs only
        text = report(sorted(previous, key=lambda r: r.relationships), repeat=args.repeat,
                      rdflib_timeout=args.rdflib_timeout, stopped=args.limit, store_max=args.store_max)
        args.out.write_text(text, encoding="utf-8")
    print("\n" + text)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
