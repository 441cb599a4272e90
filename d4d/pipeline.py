"""The build: load -> validate -> reason -> store -> analyse -> render, into ``build/``.

Every output is first written into a staging folder inside the build folder and moved into place only
when all of them are done, so a failed build leaves the previous ``build/`` as it was.

The graph is built in the on-disk store (:func:`d4d.incremental.build_store`): the imported sources
stream into it in batches, are checked against the shapes there, and the rules run inside it. A
rebuild reuses the previous store for what did not change (see :mod:`d4d.incremental`). The Turtle and
JSON-LD files are written by rdflib for a graph of up to :data:`LARGE_GRAPH` triples (pretty Turtle,
prefixed names, sorted), by the store's serialiser above (:mod:`d4d.dumps`), and not at all above
:data:`DUMP_LIMIT` unless asked: the store is the graph, ``d4d export`` writes any format from it.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import RDF, BNode, Graph, URIRef
from rdflib.compare import to_canonical_graph

from d4d import reason
from d4d.dumps import write_jsonld, write_turtle
from d4d.imports import ImportReport, import_declared
from d4d.incremental import Manifest, build_store, validation_key, violation_error
from d4d.io import replace_path
from d4d.load import Loaded, load
from d4d.ontology import Ontology
from d4d.threads import Background
from d4d.validate import validate
from d4d.vocab import D4D, GRAPH, PREFIXES

OUTPUTS = ("ecosystem.ttl", "ecosystem.jsonld", "store")
"""What the RDF part of the build writes into the build folder (the contract other tools read)."""

LARGE_GRAPH = 20_000
"""Up to this many triples rdflib writes ``ecosystem.ttl`` (prefixed names, subjects sorted) and
``ecosystem.jsonld`` (compacted); above, the store's serialiser streams them (deterministic too: the
store lists triples in index order), as rdflib would take minutes and gigabytes."""

DUMP_LIMIT = 200_000
"""Above this many triples the build writes neither ``ecosystem.ttl`` nor ``ecosystem.jsonld`` unless
asked (``dumps=True``, ``d4d build --dumps``): the store writes them at its speed of reading from disk,
some tens of thousands of triples a second, so above this size they would take most of the build (and
of every rebuild), for files of hundreds of megabytes to gigabytes that the store, the SPARQL endpoint
and ``d4d export`` serve anyway. A build that skips them removes the previous build's, so the
build folder never holds files of another graph."""

ONTOLOGY_GRAPH = GRAPH["ontology"]
FACTS_GRAPH = GRAPH["facts"]
METRICS_GRAPH = GRAPH["metrics"]

Progress = Callable[[str], None]


class Reasoned:
    """The output of the reason stage: the facts with everything the ontology entails about them.

    ``store`` holds the graph (ontology, facts, imported sources, inferences, one named graph each);
    ``inferred`` gives the inferences as an rdflib graph, read from the store when first asked for
    (only sensible for small graphs).
    """

    def __init__(self, loaded: Loaded, store: ox.Store, inferred: Graph | None = None,
                 rules: reason.MaterialiseReport | None = None, hermit_seconds: float | None = None,
                 imports: list[ImportReport] | None = None, sources: list[str] | None = None) -> None:
        self.loaded = loaded
        self.store = store
        self._inferred = inferred
        self.rules = rules if rules is not None else reason.MaterialiseReport()
        self.hermit_seconds = hermit_seconds
        self.imports: list[ImportReport] = list(imports or [])
        """The sources imported from ``imports.yaml`` (``build: true``) by this run."""
        self.sources: list[str] = list(sources) if sources is not None else [r.graph for r in self.imports]
        """The named graphs of every imported source the store holds (imported now or reused)."""

    @property
    def inferred(self) -> Graph:
        if self._inferred is None:
            self._inferred = reason.inferred_graph(self.store)
        return self._inferred


@dataclass
class BuildResult:
    """What a build did: counts, timings and the files it wrote."""

    counts: dict[str, int] = field(default_factory=dict)
    relationships: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    outputs: dict[str, Path] = field(default_factory=dict)
    store: dict[str, Any] = field(default_factory=dict)
    """How the store was made: ``mode`` (reuse, update or full) and why, the sources imported and
    copied, the inference counts."""
    skipped: list[str] = field(default_factory=list)
    """Outputs not written (the RDF files of a graph above :data:`DUMP_LIMIT`), with the reason."""


def _stage(progress: Progress | None, name: str) -> None:
    if progress is not None:
        progress(name)


def run_reasoning(loaded: Loaded, *, reasoner: bool = True, progress: Progress | None = None,
                  project: str | Path | None = None) -> Reasoned:
    """Check consistency with HermiT (unless ``reasoner`` is False) and materialise the entailments.

    With ``project``, the sources its ``imports.yaml`` marks ``build: true`` are imported into the
    store (one named graph each) before the rules run, so the entailments cover them too.

    Raises
    ------
    ReasoningError
        The ontology and facts are inconsistent, or the reasoner cannot run.
    """
    hermit_seconds = None
    if reasoner:
        _stage(progress, "reason: HermiT consistency check")
        hermit_seconds = reason.check_consistency(loaded.ontology, loaded.facts.graph).seconds
    _stage(progress, "reason: materialising entailments")
    store = reason.store_of([loaded.ontology.graph, loaded.facts.graph],
                            names=[str(ONTOLOGY_GRAPH), str(FACTS_GRAPH)])
    imports = import_declared(project, store, ontology=loaded.ontology, progress=progress) if project else []
    report = reason.materialise(store, reason.all_rules(loaded.ontology))
    clashes = reason.find_clashes(store, loaded.ontology)
    if clashes:
        from d4d.errors import ReasoningError
        x, a, b = clashes[0]
        origin = loaded.facts.origin(URIRef(x))
        raise ReasoningError(f"{x} is both {a} and {b}, which are disjoint",
                             path=origin.path if origin else None, record=origin.where() if origin else None)
    return Reasoned(loaded=loaded, store=store, inferred=reason.inferred_graph(store), rules=report,
                    hermit_seconds=hermit_seconds, imports=imports)


def ecosystem_graph(reasoned: Reasoned) -> Graph:
    """Ontology + facts + inferences as one rdflib graph, with stable blank-node labels and prefixes."""
    graph = Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True, replace=True)
    # The ontology's blank nodes (restrictions, lists) get labels derived from their content, so the
    # outputs are byte-identical for identical input.
    for triple in sorted(to_canonical_graph(reasoned.loaded.ontology.graph)):
        graph.add(triple)
    for triple in sorted(reasoned.loaded.facts.graph):
        graph.add(triple)
    for name in reasoned.sources:
        data = reasoned.store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(name))
        if data:
            graph.parse(data=data, format="nt")
    for triple in sorted(reasoned.inferred):
        if not isinstance(triple[0], BNode) and not isinstance(triple[2], BNode):
            graph.add(triple)
    return graph


def to_turtle(graph: Graph) -> bytes:
    """Turtle with the d4d prefixes (rdflib's serializer sorts subjects and predicates)."""
    data = graph.serialize(format="turtle", encoding="utf-8")
    return data if isinstance(data, bytes) else data.encode("utf-8")


def to_jsonld(graph: Graph) -> bytes:
    """JSON-LD with a context of the d4d prefixes, nodes sorted by id."""
    text = graph.serialize(format="json-ld", context=dict(PREFIXES), indent=None, auto_compact=True)
    document = json.loads(text)
    if isinstance(document.get("@graph"), list):
        document["@graph"].sort(key=lambda node: str(node.get("@id", "")))
    return (json.dumps(document, indent=1, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")


def summarise_types(types: Counter[str], ontology: Ontology) -> tuple[dict[str, int], dict[str, int]]:
    """Counts for the closing summary from the number of records of each class (IRI -> count):
    organisations, people, relationships, activities, sources, citations; relationships by type."""

    def total(root: URIRef) -> int:
        return sum(n for cls, n in types.items() if ontology.is_subclass(URIRef(cls), root))

    counts = {
        "organisations": total(D4D.Organization), "people": total(D4D.Person),
        "relationships": total(D4D.Relationship), "activities": total(D4D.Activity),
        "sources": total(D4D.SourceDocument), "citations": total(D4D.Citation),
    }
    relationships = {ontology.label(URIRef(cls)): n for cls, n in sorted(types.items())
                     if ontology.is_subclass(URIRef(cls), D4D.Relationship)}
    return counts, relationships


def count_facts(loaded: Loaded, ontology: Ontology) -> tuple[dict[str, int], dict[str, int]]:
    """Counts for the closing summary: actors, people, sources, citations; relationships by type."""
    graph = loaded.facts.graph
    types: Counter[str] = Counter()
    for _, cls in graph.subject_objects(RDF.type):
        types[str(cls)] += 1
    return summarise_types(types, ontology)


def build(project: str | Path = ".", *, out: str | Path | None = None, ontology_dir: str | Path | None = None,
          graph_dir: str | Path | None = None, reasoner: bool = True, extras: bool = True,
          progress: Progress | None = None, dumps: bool | None = None, strict: bool = False) -> BuildResult:
    """Build the knowledge graph and its outputs.

    Parameters
    ----------
    project:
        The project folder holding ``ontology/`` and ``graph/``.
    out:
        The build folder (default ``<project>/build``).
    ontology_dir, graph_dir:
        Other folders for the ontology or the facts.
    reasoner:
        Run HermiT's consistency check (the rules always run).
    extras:
        Also run the analysis and write the map, metrics and report.
    progress:
        Called with the name of each stage as it starts. If it has a ``count`` method, that is called
        with (step, done, total or None) during long steps (imports, shape checks), for a display
        with a rate and an ETA.
    dumps:
        Write ``ecosystem.ttl`` and ``ecosystem.jsonld``: None (default) up to :data:`DUMP_LIMIT`
        triples, True always, False never.
    strict:
        Stop at an imported record that cannot be read or that breaks a shape (by default such
        records are skipped or reported, and the build goes on); a source copied or reused from the
        previous build stops it too if its report has violations.

    Returns
    -------
    BuildResult

    A rebuild reuses the previous build's store for what did not change: an unchanged source is not
    imported again, an edited curated fact updates the inferences in place (:mod:`d4d.incremental`).

    Raises
    ------
    FactError, OntologyError, SourceError, ValidationError, ReasoningError, StoreError
        The build stops at the first failing stage; the build folder is left as it was.
    """
    project = Path(project)
    out = Path(out) if out is not None else project / "build"
    result = BuildResult()
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        result.seconds[name] = round(now - clock, 3)
        clock = now

    _stage(progress, "load: ontology and facts")
    loaded = load(ontology_dir or project / "ontology", graph_dir or project / "graph")
    lap("load")
    # A rebuild whose curated facts, shapes and ontology are those pyshacl passed last time skips it.
    previous = Manifest.read(out / "store") if (out / "store" / "CURRENT").is_file() else None
    checked = validation_key(loaded)
    if previous is None or previous.validated != checked:
        _stage(progress, "validate: SHACL shapes")
        validate(loaded)
    lap("validate")
    # HermiT checks the ontology and the curated facts in a Java process of its own: it runs while the
    # store is built, and the build waits for its verdict before it writes anything.
    consistency = Background(_consistency_seconds, loaded, name="d4d-hermit") \
        if reasoner and (previous is None or previous.consistent != checked) else None
    if consistency is not None:
        _stage(progress, "reason: HermiT consistency check (running beside the store)")

    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
    try:
        built = build_store(staging / "store", loaded=loaded, project=project, previous=out / "store",
                            progress=progress, counter=getattr(progress, "count", None), validated=checked,
                            strict=strict)
        if strict:
            for state in built.manifest.graphs.values():
                if state.kind == "source" and state.validation.get("violations"):
                    raise violation_error(state.validation)  # a source not checked again in this build
        for name, seconds in built.seconds.items():
            result.seconds[f"store: {name}"] = seconds
        lap("store")
        hermit_seconds = consistency.result() if consistency is not None else None
        if consistency is not None:
            result.seconds["consistency (beside the store)"] = round(hermit_seconds or 0.0, 3)
            lap("consistency wait")
        if reasoner:
            built.manifest.consistent = checked
        built.manifest.write(staging / "store")
        # The files are written from the store on disk, whose order is the same however the graph was
        # built; the analysis reads the graph as built in memory, if it was (ten times faster to read).
        store = ox.Store.read_only(str(staging / "store"))
        memory, built.memory = built.memory, None
        report = built.materialise
        reasoned = Reasoned(loaded=loaded, store=memory or store, hermit_seconds=hermit_seconds, imports=built.imports,
                            sources=built.sources,
                            rules=reason.MaterialiseReport(added=dict(report.derived), passes=report.sweeps,
                                                           seconds=report.seconds) if report else None)
        total = built.triples
        written = ["store"]
        if dumps or (dumps is None and total <= DUMP_LIMIT):
            _stage(progress, "write: Turtle and JSON-LD" + (" (the store's serialiser)" if total > LARGE_GRAPH else ""))
            if built.plan.mode == "reuse" and _reuse_outputs(built.manifest, out, staging):
                pass  # the same store: the files written from it last time are these files
            elif total > LARGE_GRAPH:
                # the default graph: the merge of the graphs and the inferences, each triple once
                write_turtle(store, staging / "ecosystem.ttl", [""], prefixes=PREFIXES)
                write_jsonld(store, staging / "ecosystem.jsonld", [""], prefixes=PREFIXES)
            else:
                graph = ecosystem_graph(reasoned)
                (staging / "ecosystem.ttl").write_bytes(to_turtle(graph))
                (staging / "ecosystem.jsonld").write_bytes(to_jsonld(graph))
            written += ["ecosystem.ttl", "ecosystem.jsonld"]
            built.manifest.outputs = {name: [(staging / name).stat().st_size, (staging / name).stat().st_mtime_ns]
                                      for name in ("ecosystem.ttl", "ecosystem.jsonld")}
            built.manifest.write(staging / "store")
        else:
            result.skipped = [f"ecosystem.ttl and ecosystem.jsonld: the graph has {total} triples, more than "
                              f"{DUMP_LIMIT}; the store holds it (d4d export writes any format, d4d build "
                              "--dumps writes them)"]
        lap("write")
        if extras:
            written += write_extras(reasoned, staging, progress=progress)
            lap("analyse and render")
        del reasoned, store, memory  # close the store before it moves
        gc.collect()
        for name in written:
            replace_path(staging / name, out / name)
            result.outputs[name] = out / name
        if result.skipped:
            for name in ("ecosystem.ttl", "ecosystem.jsonld"):
                (out / name).unlink(missing_ok=True)
    finally:
        if consistency is not None:
            consistency.wait()
        shutil.rmtree(staging, ignore_errors=True)

    result.counts, result.relationships = count_types(built.manifest, loaded.ontology)
    result.counts["triples"] = total
    result.counts["inferred"] = built.manifest.inferred
    result.store = {"mode": built.plan.mode, "reason": built.plan.reason,
                    "imported": [r.source for r in built.imports],
                    "copied": [g.rsplit("/", 1)[-1] for g in built.copied],
                    "changed": built.plan.changed if built.plan.mode != "reuse" else [],
                    "inferences": {"mode": report.mode, "sweeps": report.sweeps, "queries": report.queries,
                                   "removed": report.removed, "rederived": report.rederived} if report else {},
                    "validation": {g.rsplit("/", 1)[-1]: s.validation for g, s in built.manifest.graphs.items()
                                   if s.kind == "source" and s.validation.get("violations")}}
    return result


def _consistency_seconds(loaded: Loaded) -> float | None:
    """HermiT's check of the ontology and the curated facts (the verdict only); its time."""
    return reason.check_consistency(loaded.ontology, loaded.facts.graph, entailments=False).seconds


def _reuse_outputs(manifest: Manifest, out: Path, staging: Path) -> bool:
    """Link the previous build's RDF files into the staging folder if they are the ones written from
    this (unchanged) store, untouched since (same size and modification time)."""
    names = ("ecosystem.ttl", "ecosystem.jsonld")
    for name in names:
        recorded = manifest.outputs.get(name)
        path = out / name
        if not recorded or not path.is_file():
            return False
        stat = path.stat()
        if [stat.st_size, stat.st_mtime_ns] != recorded:
            return False
    for name in names:
        os.link(out / name, staging / name)
    return True


def count_types(manifest: Manifest, ontology: Ontology) -> tuple[dict[str, int], dict[str, int]]:
    """Counts for the closing summary from the types each asserted graph states (curated facts and
    imported sources; the manifest keeps them): actors, people, sources, citations; relationships."""
    types: Counter[str] = Counter()
    for state in manifest.graphs.values():
        if state.kind in ("facts", "source"):
            types.update(state.types)
    return summarise_types(types, ontology)


def write_extras(reasoned: Reasoned, folder: Path, *, progress: Progress | None = None) -> list[str]:
    """Analyse the network and render the map and report into ``folder``; return the file names.

    Writes ``metrics.json`` (every measure, keys sorted), ``report.html`` and ``map.html``, and writes
    the measures back into the store in ``folder`` as the named graph ``graph/metrics`` so they can be
    queried in SPARQL. (They stay out of ``ecosystem.ttl``: an observation carries the date it was made,
    which would make the file differ from day to day for the same input.)
    """
    from d4d.analyse import analyse
    from d4d.analyse.rdf import metrics_graph
    from d4d.maps import write_map
    from d4d.network import project
    from d4d.report import write_report
    from d4d.store import load_into, mirror_graph, open_store

    _stage(progress, "analyse: network measures")
    network = project(reasoned.store, reasoned.loaded.ontology)
    metrics = analyse(network, seed=0)
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
                                         encoding="utf-8")
    store = open_store(folder / "store", read_only=False)
    load_into(store, metrics_graph(metrics), graph=str(METRICS_GRAPH))
    mirror_graph(store, str(METRICS_GRAPH))
    store.flush()
    del store
    _stage(progress, "render: report and map")
    write_report(metrics, folder / "report.html")
    write_map(network, folder / "map.html", metrics=metrics)
    return ["metrics.json", "report.html", "map.html"]


def check(project: str | Path = ".", *, ontology_dir: str | Path | None = None, graph_dir: str | Path | None = None,
          reasoner: bool = True, progress: Progress | None = None) -> dict[str, Any]:
    """Load, validate and reason without writing anything (``d4d validate``).

    Returns the counts of the closing summary; raises as :func:`build` does.
    """
    project = Path(project)
    loaded = load(ontology_dir or project / "ontology", graph_dir or project / "graph")
    _stage(progress, "validate: SHACL shapes")
    validate(loaded)
    reasoned = run_reasoning(loaded, reasoner=reasoner, progress=progress, project=project)
    counts, relationships = count_facts(loaded, loaded.ontology)
    return {"counts": counts | {"inferred": len(reasoned.inferred)}, "relationships": relationships}
