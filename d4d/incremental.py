"""Incremental builds: what the built store holds, by content hash, so a rebuild redoes only what changed.

The build keeps its graph in ``build/store`` (pyoxigraph, on disk) with one named graph per input:
``graph/ontology``, ``graph/facts`` (the curated records) and ``graph/source/<name>`` (each imported
source); the default graph, which queries read, holds their merge and what the rules derive from it
(see :mod:`d4d.store`; while a graph is built in memory the inferences are in ``graph/inferred``; a
graph too large for memory is built on disk in that layout from the start: each imported batch goes
into the default graph too as it loads, then the rules add the inferences to it).
Beside the database files the store holds a manifest, ``d4d-manifest.json``: for each graph the hash
of what it was built from, and the hash of the ontology, rules and shapes the inferences were derived
with.

A rebuild compares the new inputs with the manifest (:func:`plan`):

* nothing changed: the previous store is reused as it is (a RocksDB checkpoint: hard links, no copy);
* only small graphs changed (the curated facts, a small source): the previous store is checkpointed
  into the staging folder and each changed graph is replaced in it, the inferences updated by delete
  and re-derive (:meth:`d4d.materialise.Materialiser.replace_graph`) - seconds, whatever the size of
  the rest of the graph;
* otherwise (no previous store, the ontology, rules or shapes changed, a large source changed): a new
  store, in which every source that did not change is copied from the previous store (a dump and bulk
  load, far cheaper than reading its files again) and only the changed ones are imported, then the
  inferences are derived in full.

A source's hash covers its kind, options and the bytes of its files (a file whose size and
modification time are unchanged is not hashed again: the manifest remembers its hash), and what the
import reads of the curated records: the crosswalk and the curated identifiers. Editing a curated fact
that is not an identifier therefore re-imports no source.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import queue
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from d4d import __version__
from d4d.errors import ValidationError
from d4d.store import (append_as_quads, compaction_yields, count_matches, has_blank_nodes, mirror_graph,
                       query_options)
from d4d.store import remove_graph as remove_merged_graph
from d4d.threads import Background

MANIFEST_NAME = "d4d-manifest.json"
"""The manifest's file name inside the store directory."""

FORMAT = 3
"""Version of the store's layout and its manifest (a store with another version is built anew).
2: the default graph holds the merge of the named graphs; 3: the inferences are only there."""

SMALL_CHANGE = 200_000
"""A changed graph with at most this many triples (before and after) is updated in place, with its
inferences by delete and re-derive; a larger one makes the build derive everything anew (following
a change of that size through the rules costs more than deriving from scratch)."""


@dataclass
class GraphState:
    """What one named graph of the store was built from."""

    digest: str
    triples: int = 0
    kind: str = "source"
    files: dict[str, list[Any]] = field(default_factory=dict)
    """For a source: file path -> [size, mtime_ns, sha256], so an untouched file is not hashed again."""
    types: dict[str, int] = field(default_factory=dict)
    """Class IRI -> how many ``rdf:type`` triples of the graph name it (for the build's summary)."""
    validation: dict[str, Any] = field(default_factory=dict)
    """For a source: what the shapes found (``violations``, counts per ``rules``, ``examples``)."""


@dataclass
class Manifest:
    """The inputs of a built store: the hash of the engine and of each graph."""

    engine: str
    graphs: dict[str, GraphState] = field(default_factory=dict)
    inferred: int = 0
    format: int = FORMAT
    version: str = __version__
    validated: str = ""
    """The hash of the curated facts, shapes and ontology that pyshacl last found valid."""
    consistent: str = ""
    """The same hash when HermiT last found the ontology and the curated facts consistent."""
    outputs: dict[str, list[int]] = field(default_factory=dict)
    """The RDF files written from this store: name -> [size, mtime_ns] (reused while nothing changes)."""

    def write(self, store_dir: str | Path) -> Path:
        """Write ``d4d-manifest.json`` into the store directory (sorted keys: deterministic)."""
        path = Path(store_dir) / MANIFEST_NAME
        data = asdict(self)
        tmp = path.with_name(f".{MANIFEST_NAME}.tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, path)
        return path

    @classmethod
    def read(cls, store_dir: str | Path) -> Manifest | None:
        """The manifest of a store, or None if it has none or one this version cannot read."""
        path = Path(store_dir) / MANIFEST_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            return None
        try:
            graphs = {name: GraphState(**state) for name, state in data.get("graphs", {}).items()}
            return cls(engine=str(data["engine"]), graphs=graphs, inferred=int(data.get("inferred", 0)),
                       format=FORMAT, version=str(data.get("version", "")), validated=str(data.get("validated", "")),
                       consistent=str(data.get("consistent", "")),
                       outputs={k: list(v) for k, v in (data.get("outputs") or {}).items()})
        except (KeyError, TypeError, ValueError):
            return None


# ---------------------------------------------------------------------------------------------
# Hashes


def digest_bytes(*parts: bytes | str) -> str:
    """SHA-256 over several parts, each length-prefixed (so ``("ab", "c")`` differs from ``("a", "bc")``)."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


def ntriples_digest(data: bytes) -> str:
    """The hash of an N-Triples document as a set of lines (order and duplicates do not matter)."""
    lines = sorted(set(line for line in data.splitlines() if line.strip()))
    return digest_bytes(b"\n".join(lines))


def file_digest(path: Path, cache: dict[str, list[Any]] | None = None) -> tuple[str, list[Any]]:
    """A file's SHA-256, taken from ``cache`` when its size and modification time are unchanged.

    Returns (hash, [size, mtime_ns, hash]) for the next manifest.
    """
    stat = path.stat()
    key = str(path.resolve())
    known = (cache or {}).get(key)
    if known and known[0] == stat.st_size and known[1] == stat.st_mtime_ns:
        return str(known[2]), list(known)
    h = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            h.update(block)
    value = h.hexdigest()
    return value, [stat.st_size, stat.st_mtime_ns, value]


def files_of(paths: Iterable[Path]) -> list[Path]:
    """The files named by paths (a folder stands for every file below it), sorted."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(p for p in path.rglob("*") if p.is_file())
        elif path.exists():
            out.append(path)
    return sorted(set(out))


def source_digest(kind: str, options: dict[str, Any], paths: Sequence[Path], *, identity: str,
                  cache: dict[str, list[Any]] | None = None, importer: str = "") -> tuple[str, dict[str, list[Any]]]:
    """The hash of a declared source: its kind, options, importer version, files and identity inputs.

    Returns (hash, file stat cache for the manifest). A missing path hashes as missing, so the import
    itself reports it.
    """
    stats: dict[str, list[Any]] = {}
    parts: list[bytes | str] = [kind, json.dumps(options, sort_keys=True, default=str), importer, identity]
    for path in sorted(Path(p) for p in paths):
        parts.append(f"path:{path.name}:{'dir' if path.is_dir() else 'file' if path.exists() else 'missing'}")
    for path in files_of(Path(p) for p in paths):
        value, stat = file_digest(path, cache)
        stats[str(path.resolve())] = stat
        parts.extend([path.name, value])
    return digest_bytes(*parts), stats


def type_counts(store: ox.Store, graph: str) -> dict[str, int]:
    """Class IRI -> ``rdf:type`` triples naming it in one graph of a store."""
    answer = store.query(f"SELECT ?c (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?x a ?c }} }} GROUP BY ?c")
    assert isinstance(answer, ox.QuerySolutions)
    return {str(row["c"].value): int(row["n"].value) for row in answer if isinstance(row["c"], ox.NamedNode)}


def graph_type_counts(graph: Any) -> dict[str, int]:
    """Class IRI -> ``rdf:type`` triples naming it in an rdflib graph."""
    from rdflib import RDF, URIRef

    out: dict[str, int] = {}
    for cls in graph.objects(None, RDF.type):
        if isinstance(cls, URIRef):
            out[str(cls)] = out.get(str(cls), 0) + 1
    return dict(sorted(out.items()))


def store_triples(store: ox.Store, graph: str) -> int:
    """The number of triples in one named graph of a store."""
    return count_matches(store, f"GRAPH <{graph}> {{ ?s ?p ?o }}")


def default_triples(store: ox.Store) -> int:
    """The number of triples in the default graph of a store."""
    return count_matches(store, "?s ?p ?o")


def _graph_counts(store: ox.Store, graph: str) -> tuple[int, dict[str, int]]:
    """The triples of one named graph of a store, and its :func:`type_counts`."""
    return store_triples(store, graph), type_counts(store, graph)


# ---------------------------------------------------------------------------------------------
# Deciding what to do


@dataclass
class Plan:
    """What a rebuild does with the previous store."""

    mode: str
    """``"reuse"`` (nothing changed), ``"update"`` (replace small graphs in place) or ``"full"``."""
    reason: str
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def plan(previous: Manifest | None, *, engine: str, wanted: dict[str, GraphState],
         sizes: dict[str, int] | None = None) -> Plan:
    """Compare the inputs of a build with the previous store's manifest.

    Parameters
    ----------
    previous:
        The previous store's manifest (None: no usable previous store).
    engine:
        The hash of the ontology, rules and shapes.
    wanted:
        Graph IRI -> the state it must be built from (its digest), for every asserted graph.
    sizes:
        Graph IRI -> triples of its new content, where known before importing it (the curated facts).

    Returns
    -------
    Plan
    """
    if previous is None:
        return Plan("full", "no previous build", changed=sorted(wanted))
    if previous.engine != engine:
        unchanged = sorted(g for g, s in wanted.items() if g in previous.graphs
                           and previous.graphs[g].digest == s.digest and s.kind == "source")
        return Plan("full", "the ontology, rules or shapes changed", changed=sorted(set(wanted) - set(unchanged)),
                    unchanged=unchanged)
    changed = sorted(g for g, s in wanted.items() if g not in previous.graphs or previous.graphs[g].digest != s.digest)
    removed = sorted(g for g in previous.graphs if g not in wanted)
    unchanged = sorted(set(wanted) - set(changed))
    if not changed and not removed:
        return Plan("reuse", "nothing changed", unchanged=unchanged)
    big = [g for g in changed + removed
           if (previous.graphs[g].triples if g in previous.graphs else 0) > SMALL_CHANGE
           or (sizes or {}).get(g, 0) > SMALL_CHANGE
           or (g not in previous.graphs and wanted[g].kind == "source" and not (sizes or {}).get(g))]
    if big:
        return Plan("full", f"a large graph changed ({', '.join(big)})", changed=changed, removed=removed,
                    unchanged=unchanged)
    return Plan("update", "small graphs changed", changed=changed, removed=removed, unchanged=unchanged)


__all__ = ["FORMAT", "GraphState", "MANIFEST_NAME", "Manifest", "Plan", "SMALL_CHANGE", "StoreBuild", "build_store",
           "digest_bytes", "file_digest", "files_of", "ntriples_digest", "plan", "source_digest", "store_triples",
           "validation_key"]


# ---------------------------------------------------------------------------------------------
# Building the store


@dataclass
class StoreBuild:
    """What :func:`build_store` did."""

    plan: Plan
    manifest: Manifest
    imports: list[Any] = field(default_factory=list)
    """An :class:`d4d.imports.ImportReport` per source imported (sources reused from the previous
    store are not imported again and have none)."""
    copied: list[str] = field(default_factory=list)
    """Source graphs copied from the previous store."""
    materialise: Any = None
    """The :class:`d4d.materialise.Report` of the run (or of the last update)."""
    memory: ox.Store | None = None
    """The in-memory store the graph was built in (a full build of a graph that fits in memory), with
    the same content as the store on disk: faster to read for the files the build writes next."""
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def sources(self) -> list[str]:
        """The graphs of the imported sources the store holds, sorted."""
        return sorted(g for g, s in self.manifest.graphs.items() if s.kind == "source")

    @property
    def triples(self) -> int:
        """Every triple of the store's graphs (asserted and inferred)."""
        return sum(s.triples for s in self.manifest.graphs.values()) + self.manifest.inferred


Counter_ = Callable[[str, int, "int | None"], None]
"""Progress of a long step: (what, done, total or None)."""


def _module_digest(*modules: Any) -> str:
    """The hash of some modules' source files: a new importer or engine makes the build redo its part."""
    parts: list[bytes | str] = []
    for module in modules:
        path = getattr(module, "__file__", None)
        parts.append(Path(path).read_bytes() if path else str(module))
    return digest_bytes(*parts)


def ontology_quads(graph: Any, name: str) -> list[ox.Quad]:
    """The ontology (an rdflib graph) as quads with blank-node labels derived from the content
    (rdflib's canonical labelling), so the store and its dumps are the same for the same ontology."""
    from rdflib import BNode, Literal, URIRef
    from rdflib.compare import to_canonical_graph

    def term(node: Any) -> Any:
        if isinstance(node, URIRef):
            return ox.NamedNode(str(node))
        if isinstance(node, BNode):
            return ox.BlankNode(str(node))
        assert isinstance(node, Literal)
        if node.language:
            return ox.Literal(str(node), language=node.language)
        if node.datatype is not None:
            return ox.Literal(str(node), datatype=ox.NamedNode(str(node.datatype)))
        return ox.Literal(str(node))

    target = ox.NamedNode(name)
    return [ox.Quad(term(s), term(p), term(o), target) for s, p, o in sorted(to_canonical_graph(graph))]


def identity_digest(facts: Any, crosswalk_path: Path | None) -> str:
    """What an import reads of the curated records: the crosswalk, the curated org-ids and Wikidata
    ids, and which crosswalk targets are curated records (see :class:`d4d.imports.identity.Resolver`)."""
    from rdflib import Literal, URIRef

    from d4d.imports.identity import Crosswalk, wikidata_qid
    from d4d.vocab import D4D

    subjects = {str(s) for s in facts.subjects() if isinstance(s, URIRef)}
    ids = sorted(f"{str(o).strip().upper()} {s}" for s, o in facts.subject_objects(D4D.identifier)
                 if isinstance(o, Literal))
    qids = sorted(f"{wikidata_qid(str(o))} {s}" for s, o in facts.subject_objects(D4D.sameAs)
                  if isinstance(o, Literal) and wikidata_qid(str(o)))
    parts: list[bytes | str] = ["\n".join(ids), "\n".join(qids)]
    if crosswalk_path is not None and crosswalk_path.is_file():
        walk = Crosswalk.load(crosswalk_path)
        parts.append(crosswalk_path.read_bytes())
        parts.append("\n".join(sorted(f"{ref.target} {ref.target in subjects}" for ref in walk.entries.values())))
    return digest_bytes(*parts)


def build_store(target: str | Path, *, loaded: Any, project: str | Path, previous: str | Path | None = None,
                strict: bool = False, progress: Callable[[str], None] | None = None,
                counter: Counter_ | None = None, validated: str = "") -> StoreBuild:
    """Build the graph into a new on-disk store at ``target``, reusing what ``previous`` holds.

    Parameters
    ----------
    target:
        Where the store is made (a folder that does not exist yet; the build's staging folder).
    loaded:
        The ontology and curated facts (:class:`d4d.load.Loaded`), already validated.
    project:
        The project folder: its ``imports.yaml`` declares the sources (those with ``build: true``).
    previous:
        The previous build's store, if any; it is only read.
    strict:
        Stop at the first source record that cannot be read.
    progress:
        Called with a line as each step starts.
    counter:
        Called with (step, done, total) during long steps (imports, rules, shape checks).
    validated:
        The hash of the curated input pyshacl found valid (see :func:`validation_key`), kept in the
        manifest so that the next build can skip that check when the input is the same.

    Returns
    -------
    StoreBuild
        The plan followed, the manifest written into the store, the import reports, timings.

    Raises
    ------
    SourceError
        A source cannot be read (see :func:`d4d.imports.import_source`).
    ValidationError
        An imported source breaks the SHACL shapes (each violation with its file and record).
    ReasoningError
        A rule fails, or an individual ends up in two disjoint classes.
    """
    background: list[_Persister] = []
    try:
        return _build_store(Path(target), loaded=loaded, project=Path(project), previous=previous, strict=strict,
                            progress=progress, counter=counter, validated=validated, background=background)
    except BaseException:
        for persister in background:
            persister.wait(raising=False)  # nothing writes into the staging folder once this returns
        raise


def _build_store(target: Path, *, loaded: Any, project: Path, previous: str | Path | None, strict: bool,
                 progress: Callable[[str], None] | None, counter: Counter_ | None, validated: str,
                 background: list[_Persister]) -> StoreBuild:
    """:func:`build_store`; a thread it starts is put in ``background``."""
    import time

    from d4d import materialise as mat
    from d4d import reason, shapes_sparql
    from d4d.imports import context as import_context
    from d4d.imports import identity as import_identity
    from d4d.imports import IMPORTERS, read_project, source_graph
    from rdflib import BNode

    from d4d.validate import load_shapes
    from d4d.vocab import GRAPH

    clock = time.perf_counter()
    seconds: dict[str, float] = {}

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[name] = round(seconds.get(name, 0.0) + now - clock, 3)
        clock = now

    def say(text: str) -> None:
        if progress is not None:
            progress(text)

    ontology_name, facts_name, inferred_name = str(GRAPH["ontology"]), str(GRAPH["facts"]), str(reason.INFERRED)
    joins_name = f"{inferred_name}/joins"  # what the join rules wrote, in a build in memory
    rules = reason.all_rules(loaded.ontology)
    if loaded.ontology.directory is None:
        raise ValueError("the ontology has no folder: its shapes cannot be read")
    shapes = load_shapes(loaded.ontology.directory)
    queries = shapes_sparql.compile_shapes(shapes, loaded.ontology.graph)
    onto_quads = ontology_quads(loaded.ontology.graph, ontology_name)
    onto_text = ox.serialize([q.triple for q in onto_quads], format=ox.RdfFormat.N_TRIPLES)
    engine = digest_bytes(onto_text or b"", "\n".join(r.sparql for r in rules),
                          "\n".join(q.text() for q in queries), _module_digest(mat, reason, shapes_sparql))
    facts_text = loaded.facts.graph.serialize(format="nt", encoding="utf-8")
    config = read_project(project)
    specs = [s for s in config.sources if s.build]
    previous_dir = Path(previous) if previous is not None and (Path(previous) / "CURRENT").is_file() else None
    before = Manifest.read(previous_dir) if previous_dir else None
    identity = identity_digest(loaded.facts.graph, config.crosswalk)
    importer_code = {kind: _module_digest(import_context, import_identity, sys.modules[reader.__module__])
                     for kind, reader in IMPORTERS.items()}
    wanted: dict[str, GraphState] = {
        ontology_name: GraphState(digest_bytes(onto_text or b""), len(onto_quads), "ontology",
                                  types=graph_type_counts(loaded.ontology.graph)),
        facts_name: GraphState(ntriples_digest(facts_text), len(loaded.facts.graph), "facts",
                               types=graph_type_counts(loaded.facts.graph)),
    }
    specs_by_graph = {}
    for spec in specs:
        cache = before.graphs[source_graph(spec.name)].files if before and source_graph(spec.name) in before.graphs else {}
        digest, stats = source_digest(spec.kind, spec.options, spec.paths, identity=identity, cache=cache,
                                      importer=importer_code.get(spec.kind, ""))
        wanted[source_graph(spec.name)] = GraphState(digest, 0, "source", stats)
        specs_by_graph[source_graph(spec.name)] = spec
    has_blank_facts = any(isinstance(s, BNode) or isinstance(o, BNode) for s, _, o in loaded.facts.graph)
    decision = plan(before, engine=engine, wanted=wanted, sizes={facts_name: len(loaded.facts.graph)})
    if decision.mode == "update" and has_blank_facts and facts_name in decision.changed:
        decision = Plan("full", "the curated facts hold blank nodes", changed=decision.changed,
                        removed=decision.removed, unchanged=decision.unchanged)
    lap("plan")
    say(f"store: {decision.mode} ({decision.reason})")
    result = StoreBuild(plan=decision, manifest=Manifest(engine=engine))
    crosswalk = import_identity.Crosswalk.load(config.crosswalk) if config.crosswalk else None
    asserted = sorted(set(wanted) | (set(before.graphs) if before and decision.mode != "full" else set()))
    touched: list[str] = []
    persister: _Persister | None = None
    counting: Background[int] | None = None  # the inferences of a full build, counted beside the clashes
    checking: Background[float] | None = None  # the checks of the imported sources, beside the join rules

    if decision.mode in ("reuse", "update"):
        assert before is not None and previous_dir is not None
        try:
            old = ox.Store.read_only(str(previous_dir))
            old.backup(str(target))
            del old
        except OSError:
            decision = Plan("full", "the previous store cannot be read", changed=sorted(wanted))
            result.plan = decision
            shutil.rmtree(target, ignore_errors=True)
    if decision.mode in ("reuse", "update"):
        assert before is not None
        store = ox.Store(str(target))
        for named in list(store.named_graphs()):
            if isinstance(named, ox.NamedNode) and named.value not in asserted and named.value != inferred_name:
                # the metrics of the last build, an interrupted run's scratch graphs
                remove_merged_graph(store, named)
        graphs = {g: s for g, s in before.graphs.items()}
        inferred = before.inferred
        lap("checkpoint")
        if decision.mode == "update":
            engine_run = mat.Materialiser(store, rules, asserted=asserted, merged=True,
                                          progress=lambda text: say(f"reason: {text}"))
            for graph in decision.changed + decision.removed:
                if graph == facts_name:
                    say("reason: updating the inferences of the curated facts")
                    report = engine_run.replace_graph(graph, facts_text)
                    graphs[graph] = wanted[graph]
                elif graph in decision.removed:
                    say(f"reason: removing {graph}")
                    report = engine_run.replace_graph(graph, b"")
                    store.remove_graph(ox.NamedNode(graph))
                    graphs.pop(graph, None)
                else:
                    spec = specs_by_graph[graph]
                    say(f"import: {spec.name} ({spec.kind})")
                    scratch = ox.Store()
                    resolver = import_identity.Resolver.from_store(store, crosswalk)
                    imported = _import(scratch, spec, resolver=resolver, strict=strict, ontology=loaded.ontology,
                                       counter=counter, batch_size=MEMORY_BATCH)
                    result.imports.append(imported)
                    data = scratch.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph)) or b""
                    lap("import")
                    report = engine_run.replace_graph(graph, data)
                    graphs[graph] = GraphState(wanted[graph].digest, data.count(b"\n"), "source", wanted[graph].files,
                                               types=type_counts(store, graph))
                    graphs[graph].validation = _check_source(store, queries, graph, asserted, counter, strict=strict,
                                                             triples=graphs[graph].triples, files=graphs[graph].files)
                inferred += report.net
                touched.extend(report.typed)
                result.materialise = report
            lap("reason")
        for graph, state in wanted.items():
            kept = graphs.get(graph, state)
            graphs[graph] = GraphState(state.digest, kept.triples if state.kind == "source" else state.triples,
                                       state.kind, state.files, types=kept.types if state.kind == "source"
                                       else state.types, validation=kept.validation)
    else:
        # A graph that fits in memory is built there (the store answers queries and writes files ten
        # times faster from memory than from disk) and written to disk at the end.
        estimate = estimate_triples(specs, len(loaded.facts.graph) + len(onto_quads))
        in_memory = estimate <= MEMORY_LIMIT
        say(f"store: building {'in memory' if in_memory else 'on disk'} (about {estimate:,} triples expected)")
        store = ox.Store() if in_memory else ox.Store(str(target))
        if not in_memory:
            compaction_yields()  # the store's merging of its files runs on the cores the build leaves idle
        merged_asserted = 0
        if in_memory:
            result.memory = store
        # On disk the inferences go straight into the default graph, beside the merge of the asserted
        # graphs: removing a named copy of them later is one transaction held in memory (12 GB at 1M).
        engine_run = mat.Materialiser(store, rules, asserted=[], merged=not in_memory,
                                      progress=lambda text: say(f"reason: {text}"), beside=estimate <= ASIDE_LIMIT)
        if in_memory:
            # the disk store is written beside the build, from the import on
            persister = _Persister(store, target, onto_quads)
            background.append(persister)
        # What the one-triple rules derive is written out as the asserted triples stream in.
        closure_dir = Path(tempfile.mkdtemp(prefix="d4d-closure-"))
        closure_path = closure_dir / "closure.nt"
        try:
            with open(closure_path, "wb") as closure:
                closing = mat.ClosingStore(store, engine_run.local, closure, merge=not in_memory,
                                           mirror=persister.write if persister is not None else None)
                closing.extend(onto_quads)
                closing.load(facts_text, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(facts_name))
                graphs = {ontology_name: wanted[ontology_name], facts_name: wanted[facts_name]}
                old_store = ox.Store.read_only(str(previous_dir)) if previous_dir and decision.unchanged else None
                full_resolver = import_identity.Resolver.from_store(store, crosswalk) if specs else None
                imported_now: list[tuple[str, str]] = []  # (source, graph) of the sources imported
                for spec in specs:
                    graph = source_graph(spec.name)
                    if old_store is not None and before is not None and graph in decision.unchanged \
                            and old_store.contains_named_graph(ox.NamedNode(graph)):
                        say(f"import: {spec.name} unchanged, copied from the previous build")
                        _copy_graph(old_store, closing, graph)
                        graphs[graph] = GraphState(wanted[graph].digest, before.graphs[graph].triples, "source",
                                                   wanted[graph].files, types=before.graphs[graph].types,
                                                   validation=before.graphs[graph].validation)
                        result.copied.append(graph)
                        lap("copy")
                        continue
                    say(f"import: {spec.name} ({spec.kind})")
                    imported = _import(closing, spec, resolver=full_resolver, strict=strict,  # type: ignore[arg-type]
                                       ontology=loaded.ontology, counter=counter,
                                       batch_size=MEMORY_BATCH if in_memory else IMPORT_BATCH)
                    result.imports.append(imported)
                    lap("import")
                    graphs[graph] = GraphState(wanted[graph].digest, 0, "source", wanted[graph].files)
                    imported_now.append((spec.name, graph))
                del old_store
            # The imported graphs are counted beside the merge (a count reads its own graph only).
            graph_counts = [(graph, Background(_graph_counts, store, graph, name="d4d-count"))
                            for _, graph in imported_now]
            try:
                if persister is not None:
                    # the asserted graphs are complete: what was not mirrored goes to disk while the rules run
                    persister.asserted(sorted(graphs), closing.uncopied)
                else:
                    # the imported batches went into the default graph too; the rest is copied now
                    unmerged = sorted(graphs) if closing.uncopied is None else sorted(closing.uncopied)
                    say(f"store: merging {len(unmerged)} graphs into the default graph")
                    for graph in unmerged:
                        mirror_graph(store, graph)
                    merged_asserted = default_triples(store)
            finally:
                for _, count in graph_counts:
                    count.wait()
            for graph, count in graph_counts:
                graphs[graph].triples, graphs[graph].types = count.result()
            lap("merge")
            asserted_now = sorted(graphs)

            def announce(name: str, graph: str, how: str = "") -> None:
                say(f"validate: {name} against the shapes ({graphs[graph].triples} triples{how})")

            def check_sources(progress_count: Counter_ | None, *, announcing: bool) -> float:
                started = time.perf_counter()
                for name, graph in imported_now:
                    if announcing:
                        announce(name, graph)
                    graphs[graph].validation = _check_source(store, queries, graph, asserted_now, progress_count,
                                                             strict=strict, triples=graphs[graph].triples,
                                                             files=graphs[graph].files)
                return time.perf_counter() - started

            into = ox.NamedNode(inferred_name) if in_memory else ox.DefaultGraph()
            if strict:
                # A strict build stops at its first violation: its sources are checked before the rules
                # run, while what the one-triple rules derive is loaded (the checks read only the
                # asserted graphs, and the load leaves Python's lock free).
                say("reason: loading what the one-triple rules derive (beside the checks of the sources)")
                loading = Background(lambda: store.bulk_load(path=str(closure_path), format=ox.RdfFormat.N_TRIPLES,
                                                             to_graph=into, lenient=True), name="d4d-closure")
                try:
                    check_sources(counter, announcing=True)
                    lap("validate sources")
                except BaseException:
                    loading.wait()  # the check's error is the one to report
                    raise
                loading.result()
            else:
                # Otherwise the load has the cores to itself, and the checks run beside the join rules,
                # which leave part of a core idle (the checks read only the asserted graphs; the rules
                # write only inferences).
                say("reason: loading what the one-triple rules derive")
                store.bulk_load(path=str(closure_path), format=ox.RdfFormat.N_TRIPLES, to_graph=into, lenient=True)
                for name, graph in imported_now:
                    announce(name, graph, ", beside the rules")
                checking = (Background(lambda: check_sources(None, announcing=False), name="d4d-check")
                            if imported_now else None)
        finally:
            shutil.rmtree(closure_dir, ignore_errors=True)
        lap("reason")
        say("reason: running the join rules in the store")
        engine_run.asserted = asserted_now
        try:
            result.materialise = engine_run.full(closed=True, collect=joins_name if in_memory else None)
        except BaseException:
            if checking is not None:
                checking.wait()  # the rules' error is the one to report
            raise
        if in_memory:
            counting = Background(store_triples, store, inferred_name, name="d4d-count")
        else:
            counting = Background(lambda: default_triples(store) - merged_asserted, name="d4d-count")
        lap("reason")
        if checking is not None:
            try:
                took = checking.result()
            except BaseException:
                counting.wait()
                raise
            seconds["validate sources (a thread, beside the join rules)"] = round(took, 3)
            lap("validate sources wait")
    try:
        clashes = find_clashes(store, loaded.ontology, subjects=touched if decision.mode != "full" else None)
    finally:
        if counting is not None:
            counting.wait()
    if counting is not None:
        inferred = counting.result()
    if clashes:
        from d4d.errors import ReasoningError
        from rdflib import URIRef

        x, a, b = clashes[0]
        origin = loaded.facts.origin(URIRef(x))
        raise ReasoningError(f"{x} is both {a} and {b}, which are disjoint",
                             path=origin.path if origin else None, record=origin.where() if origin else None)
    lap("clashes")
    if persister is not None:
        say("store: writing the inferences to disk")
        persister.finish(inferred_name, joins_name, closure_copied=closing.closure_copied)
        store.remove_graph(ox.NamedNode(joins_name))
        seconds["write to disk (a thread, beside the import and the rules)"] = round(persister.seconds, 3)
        lap("write to disk")
    else:
        store.flush()
    del store
    result.manifest = Manifest(engine=engine, graphs=graphs, inferred=inferred, validated=validated,
                               outputs=dict(before.outputs) if before and decision.mode == "reuse" else {})
    result.manifest.write(target)
    result.seconds = seconds
    return result


def validation_key(loaded: Any) -> str:
    """The hash of what pyshacl checks: the curated facts, the shapes and the ontology's classes."""
    from rdflib import RDF, RDFS, URIRef

    hierarchy = sorted(f"{s} {p} {o}" for p in (RDFS.subClassOf, RDF.type)
                       for s, o in loaded.ontology.graph.subject_objects(p)
                       if isinstance(s, URIRef) and isinstance(o, URIRef))
    shapes = Path(loaded.ontology.directory) / "shapes.ttl" if loaded.ontology.directory else None
    return digest_bytes(ntriples_digest(loaded.facts.graph.serialize(format="nt", encoding="utf-8")),
                        shapes.read_bytes() if shapes and shapes.is_file() else b"", "\n".join(hierarchy))


MEMORY_LIMIT = 3_000_000
"""A full build expected to make at most this many triples is built in memory, then written to disk; a
larger one on disk. Measured on synthetic IATI (bench/RESULTS-build.md): at 0.9M triples the build in
memory is faster (24-28 s against 30-34 s on disk); at 9.1M the build on disk is (185 s at 2.2 GB
against 243 s at 5.2 GB). The limit sits between the two (their geometric mean)."""

ASIDE_LIMIT = 30_000_000
"""A full build expected to make more than this many triples runs its join rules one at a time (see
:class:`d4d.materialise.Materialiser`'s ``beside``). Measured on synthetic IATI builds on disk, 2 cores
(bench/RESULTS-build.md): at 9.1M triples the rules run in a second thread saved 12 s of 52 s; at 92M
the join step took 0.92 of the import's time with them, and 0.59 without (as in the builds before
them). Such a store's merging of its files needs the core the second thread takes, and its reads slow
down while the merging waits. The limit sits between the two sizes (about their geometric mean)."""

TRIPLES_PER_BYTE = {"iati": 0.11, "360giving": 0.05, "compass": 0.05, "spreadsheet": 0.2}
"""Triples a build makes (asserted and inferred) per byte of a source's files, measured on the
files of ``../shared/data`` and the synthetic IATI files: for choosing memory or disk."""


def estimate_triples(specs: Sequence[Any], curated: int) -> int:
    """About how many triples a build of these sources will hold (see :data:`TRIPLES_PER_BYTE`)."""
    total = curated * 3
    for spec in specs:
        size = sum(p.stat().st_size for p in files_of(Path(x) for x in spec.paths))
        total += int(size * TRIPLES_PER_BYTE.get(spec.kind, 0.2))
    return total


class _Persister:
    """Writes an in-memory build to a new on-disk store, in the built layout (see :mod:`d4d.store`),
    in a thread of its own while the build goes on (pyoxigraph's bulk load leaves Python's lock free).

    Made before the import, its :meth:`write` is the mirror of the import's
    :class:`~d4d.materialise.ClosingStore`: each batch of a source goes to disk as it is imported (its
    quads, their copy in the default graph, their closure by the one-triple rules), gathered into
    chunks of :data:`CHUNK` bytes, one bulk load each. :meth:`asserted` then copies whole the graphs
    that were not mirrored batch by batch; :meth:`finish` adds what the join rules derived.

    A graph with blank nodes (the ontology's OWL expressions) is copied quad by quad at the end: a bulk
    load gives blank nodes new labels, and the ontology's keep the labels derived from their content,
    for byte-identical files.
    """

    CHUNK = 1 << 26
    """Bytes of N-Quads per bulk load into the disk store (measured at 10k with :data:`MEMORY_BATCH`:
    64 MB chunks beat 32 MB, which make more files to merge, and 128 MB, which leave more to write after
    the rules)."""

    def __init__(self, memory: ox.Store, target: Path, onto_quads: Sequence[ox.Quad]) -> None:
        self.memory = memory
        self.disk = ox.Store(str(target))
        compaction_yields()
        self.onto_quads = list(onto_quads)
        self.onto_name = self.onto_quads[0].graph_name if self.onto_quads else None
        self.blank: list[str] = []
        self.seconds = 0.0
        self._error: BaseException | None = None
        self._cancelled = False
        self._tmp = Path(tempfile.mkdtemp(prefix="d4d-persist-"))
        self._chunks = itertools.count()
        self._chunk: Any = None
        self._chunk_path: Path | None = None
        self._lock = threading.Lock()
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="d4d-persist", daemon=True)
        self._thread.start()

    # -- the mirror of the import (called as batches are written) --------------------------------

    def write(self, quads: bytes) -> None:
        """Add N-Quads to the chunk being written (handed to the thread when it is full)."""
        with self._lock:
            if self._chunk is None:
                self._chunk_path = self._tmp / f"chunk{next(self._chunks)}.nq"
                self._chunk = open(self._chunk_path, "wb")
            self._chunk.write(quads)
            if self._chunk.tell() >= self.CHUNK:
                self._hand_over()

    def _hand_over(self) -> None:
        """Queue the chunk being written for a bulk load (the lock is held)."""
        if self._chunk is None:
            return
        self._chunk.close()
        path, self._chunk, self._chunk_path = self._chunk_path, None, None
        assert path is not None
        self._jobs.put(lambda: self._load_file(path))

    # -- the thread ----------------------------------------------------------------------------

    def _run(self) -> None:
        import time

        while True:
            job = self._jobs.get()
            if job is None:
                return
            if self._error is not None or self._cancelled:
                continue  # drain the queue; the files go with the folder
            started = time.perf_counter()
            try:
                job()
            except BaseException as exc:  # raised again by wait()
                self._error = exc
            self.seconds += time.perf_counter() - started

    def _load_file(self, path: Path) -> None:
        self.disk.bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS, lenient=True)
        path.unlink()

    def _load_graphs(self, graphs: Sequence[str], *, named: bool) -> None:
        """Load ``graphs`` of the memory store into the default graph of the disk store (and, if
        ``named``, into their named graphs there too), as one bulk load of N-Quads."""
        path, part = self._tmp / f"graphs{next(self._chunks)}.nq", self._tmp / "part.nt"
        with open(path, "wb") as out:
            for graph in graphs:
                self.memory.dump(str(part), format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph))
                append_as_quads(part, out, [graph, ""] if named else [""])
        part.unlink(missing_ok=True)
        self._load_file(path)

    # -- the build's steps -----------------------------------------------------------------------

    def asserted(self, graphs: Sequence[str], uncopied: set[str] | None) -> None:
        """The asserted graphs are complete: queue the chunk being written and a copy of each graph
        that was not mirrored batch by batch, ``uncopied`` (None: all of them; those with blank nodes
        wait for :meth:`finish`)."""
        with self._lock:
            self._hand_over()
        whole = [g for g in graphs if uncopied is None or g in uncopied]
        self.blank = [g for g in whole if ox.NamedNode(g) == self.onto_name or has_blank_nodes(self.memory, g)]
        plain = [g for g in whole if g not in self.blank]
        if plain:
            self._jobs.put(lambda: self._load_graphs(plain, named=True))

    def wait(self, *, raising: bool = True) -> None:
        """Wait for the queued writes; raise what they raised (unless not ``raising``: the build
        failed, the writes still queued are skipped, the store is closed and the files removed)."""
        if not raising:
            self._cancelled = True
        with self._lock:
            if self._chunk is not None:
                self._chunk.close()
                self._chunk = None
        self._jobs.put(None)
        self._thread.join()
        if not raising:
            shutil.rmtree(self._tmp, ignore_errors=True)
            if hasattr(self, "disk"):
                del self.disk
        elif self._error is not None:
            raise self._error

    def finish(self, inferred: str, joins: str, *, closure_copied: bool) -> None:
        """Write what the rules derived beyond what was mirrored: graph ``joins`` of the memory store
        (what the join rules wrote), or all of ``inferred`` unless all of the closure was mirrored;
        copy the graphs with blank nodes; wait for everything and flush."""
        try:
            source = joins if closure_copied else inferred
            if self.memory.contains_named_graph(ox.NamedNode(source)):
                if has_blank_nodes(self.memory, source):
                    self.blank.append(source)
                else:
                    self._jobs.put(lambda: self._load_graphs([source], named=False))
            self.wait()
            for graph in self.blank:
                name = ox.NamedNode(graph)
                quads = self.onto_quads if name == self.onto_name else \
                    list(self.memory.quads_for_pattern(None, None, None, name))
                if graph not in (inferred, joins):
                    self.disk.remove_graph(name)
                    self.disk.extend(quads)
                self.disk.extend(ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in quads)
            self.disk.flush()
        finally:
            shutil.rmtree(self._tmp, ignore_errors=True)
        del self.disk


def find_clashes(store: ox.Store, ontology: Any, *, subjects: Sequence[str] | None = None) -> list[tuple[str, str, str]]:
    """Individuals typed with two disjoint classes: (individual, class, class); with ``subjects``,
    among those only (after an update, the individuals it gave a type)."""
    from d4d import reason

    if subjects is None:
        return reason.find_clashes(store, ontology)
    pairs = reason.disjoint_pairs(ontology)
    clashes: list[tuple[str, str, str]] = []
    for start in range(0, len(subjects), 500):
        values = " ".join(f"<{s}>" for s in subjects[start:start + 500])
        for a, b in pairs:
            answer = store.query(f"SELECT DISTINCT ?x WHERE {{ VALUES ?x {{ {values} }} ?x a <{a}> . ?x a <{b}> }} "
                                 "ORDER BY ?x", **query_options(store))
            assert isinstance(answer, ox.QuerySolutions)
            clashes.extend((str(row["x"].value), a, b) for row in answer)
    return sorted(clashes)


def _import(store: ox.Store, spec: Any, *, resolver: Any, strict: bool, ontology: Any,
            counter: Counter_ | None, batch_size: int) -> Any:
    """Import one source into ``store`` with a progress count (records read, of an estimate)."""
    from d4d.imports import import_source

    total = estimate_records(spec)

    def step(done: int) -> None:
        if counter is not None:
            counter(f"import {spec.name}", done, total)

    report = import_source(store, spec, resolver=resolver, strict=strict, ontology=ontology,
                           batch_size=batch_size, progress=step)
    if counter is not None:
        counter(f"import {spec.name}", sum(report.counts.values()) if total is None else total, total)
    return report


IMPORT_BATCH = 500_000
"""Quads an import writes into the on-disk store at a time: large batches leave few files for the store
to read through (each bulk load writes new ones)."""

MEMORY_BATCH = 25_000
"""Quads an import writes into an in-memory store at a time. Small batches keep the disk store's writer
(:class:`_Persister`) busy from the start of the import: with :data:`IMPORT_BATCH` a 10k-transaction
source was one batch, written to disk only after it was read (measured at 10k: 11.5-13 s against
16-17 s a build, bench/RESULTS-build.md)."""


def estimate_records(spec: Any) -> int | None:
    """How many records a source has, counted cheaply where its format allows (for an ETA), or None.

    IATI: the ``<iati-activity`` start tags of its files (a byte search, about a second per GB).
    """
    if spec.kind != "iati":
        return None
    total = 0
    for path in files_of(Path(p) for p in spec.paths):
        if path.suffix.lower() != ".xml":
            continue
        tail = b""
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 24), b""):
                data = tail + block
                total += data.count(b"<iati-activity ") + data.count(b"<iati-activity>")
                tail = data[-16:]
                total -= tail.count(b"<iati-activity ") + tail.count(b"<iati-activity>")
        # the tail of the last block was subtracted once too often
        total += tail.count(b"<iati-activity ") + tail.count(b"<iati-activity>")
    return total or None


def _copy_graph(source: ox.Store, target: Any, graph: str) -> None:
    """Copy one named graph between stores through an N-Triples file (both sides in Rust, no Python terms)."""
    with tempfile.TemporaryDirectory(prefix="d4d-copy-") as tmp:
        path = Path(tmp) / "graph.nt"
        source.dump(str(path), format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph))
        target.bulk_load(path=str(path), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(graph), lenient=True)


MAX_EXAMPLES = 20
"""Violations of an imported source reported with their file and record (all are counted)."""


CHECK_IN_FULL = 100_000
"""A source of up to this many triples is checked against the shapes in full; a larger one on a sample
of :data:`SAMPLE` focus nodes per constraint (the importers check every record as they read it; the
shapes, run on the store, cost a few tens of microseconds per node and constraint)."""

SAMPLE = 5_000


def _check_source(store: ox.Store, queries: Sequence[Any], graph: str, asserted: Sequence[str],
                  counter: Counter_ | None, *, strict: bool = False, triples: int = 0,
                  files: dict[str, list[Any]] | None = None) -> dict[str, Any]:
    """Run the compiled shapes on the records of one imported source (on a sample if it is large).

    Returns the validation report of the source: ``violations`` (how many), ``rules`` (count per
    rule and message) and ``examples`` (the first :data:`MAX_EXAMPLES`, each with file and record).
    Open data breaks the shapes in ordinary ways (an organisation whose type gives no sector): the
    build reports it and goes on, unless ``strict``, when the first violation stops it
    (:class:`ValidationError` listing them).
    """
    from d4d import shapes_sparql

    found: list[Any] = []
    per_rule: dict[str, int] = {}
    sample = SAMPLE if triples > CHECK_IN_FULL else None
    for n, query in enumerate(queries):
        rows = [r for r in shapes_sparql.check_store(store, [query], graph=graph, data_graphs=asserted,
                                                     limit=MAX_EXAMPLES + 1, sample=sample)
                if r.severity == "Violation"]
        if rows:
            total = len(rows) if len(rows) <= MAX_EXAMPLES else _count_rows(store, query, graph, asserted, sample)
            key = f"{query.shape.rsplit('#', 1)[-1]}: {query.message}"
            per_rule[key] = per_rule.get(key, 0) + total
            found.extend(rows[:MAX_EXAMPLES])
        if counter is not None:
            counter(f"validate {graph.rsplit('/', 1)[-1]}", n + 1, len(queries))
    report: dict[str, Any] = {"violations": sum(per_rule.values()), "rules": dict(sorted(per_rule.items())),
                              "examples": [], "sample": sample}
    if not found:
        return report
    found.sort(key=lambda r: (r.focus, r.component, r.path or "", r.value or ""))
    located = locate(store, sorted({r.focus for r in found})[:MAX_EXAMPLES], graph=graph, files=files)
    for r in found[:MAX_EXAMPLES]:
        path, record = located.get(r.focus, (None, r.focus))
        field_name = r.path.rsplit("#", 1)[-1].rsplit("/", 1)[-1] if r.path else None
        report["examples"].append({"path": path, "record": record, "field": field_name, "message": r.message,
                                   "rule": r.shape.rsplit("#", 1)[-1], "value": r.value})
    if strict:
        raise violation_error(report)
    return report


def violation_error(report: dict[str, Any]) -> ValidationError:
    """The :class:`~d4d.errors.ValidationError` of a source's validation report that has violations:
    its first example, located, and how many more there are."""
    first = report["examples"][0]
    more = f" (and {report['violations'] - 1} more)" if report["violations"] > 1 else ""
    return ValidationError(f"{first['field'] + ': ' if first['field'] else ''}{first['message']} "
                           f"[{first['rule']}]{more}", path=first["path"], record=first["record"],
                           violations=report["examples"])


def _count_rows(store: ox.Store, query: Any, graph: str, asserted: Sequence[str], sample: int | None) -> int:
    text = query.text(graph, sample=sample)
    head, _, rest = text.partition("SELECT")
    answer = store.query(f"{head}SELECT (COUNT(*) AS ?d4d_n) WHERE {{ SELECT {rest} }}",
                         default_graph=[ox.NamedNode(g) for g in asserted])
    assert isinstance(answer, ox.QuerySolutions)
    for row in answer:
        return int(row["d4d_n"].value)
    return 0


def locate(store: ox.Store, nodes: Sequence[str], *, graph: str,
           files: dict[str, list[Any]] | None = None) -> dict[str, tuple[str | None, str]]:
    """Where imported nodes come from: (file, record) from their citations (the quote locates the record).

    The file is the document's path below the shared folder (``d4d:localFile``) or, for a file of the
    project (the graph does not hold machine paths), the one of ``files`` (path -> [size, mtime,
    sha256], as in :class:`GraphState`) whose hash the document's identifier gives.
    """
    if not nodes:
        return {}
    by_hash = {f"sha256:{stat[2]}": path for path, stat in (files or {}).items() if len(stat) > 2}
    values = " ".join(f"<{n}>" for n in nodes)
    answer = store.query(
        "SELECT ?x ?quote ?file ?id WHERE { VALUES ?x { " + values + " } "
        f"GRAPH <{graph}> {{ ?x <https://w3id.org/d4d/ontology#citation> ?c . "
        "?c <https://w3id.org/d4d/ontology#quote> ?quote ; <https://w3id.org/d4d/ontology#citedSource> ?doc . "
        "OPTIONAL { ?doc <https://w3id.org/d4d/ontology#localFile> ?file } "
        "OPTIONAL { ?doc <http://purl.org/dc/terms/identifier> ?id } } } ORDER BY ?x ?quote")
    out: dict[str, tuple[str | None, str]] = {}
    assert isinstance(answer, ox.QuerySolutions)
    for row in answer:
        node = str(row["x"].value)
        if node not in out:
            file, ident = row["file"], row["id"]
            path = str(file.value) if file is not None else by_hash.get(str(ident.value)) if ident is not None else None
            out[node] = (path, str(row["quote"].value))
    return out
