"""The graph of a build, assembled in a store: ontology, curated facts and sources, one named graph
each; their merge in the default graph; the rules' inferences added to it there.

This is the one way d4d makes a graph: ``d4d build``, ``d4d import`` and ``d4d validate`` all come
here (through :func:`d4d.pipeline.build`), and so do the tests' in-memory graphs (:func:`d4d.pipeline.run_reasoning`).
When only the curated facts changed, :func:`update` updates a copy of the previous store in place;
otherwise :func:`assemble` makes a new one, copying from the previous store a source whose hash is the
one recorded for it. Either way the result is the graph a fresh build of the same inputs makes.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pyoxigraph as ox
from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.compare import to_canonical_graph

from d4d import reason, shapes_sparql
from d4d.errors import ReasoningError, ValidationError
from d4d.imports import ImportReport, SourceSpec, import_source, source_graph
from d4d.imports.identity import Crosswalk, Resolver
from d4d.limits import CHECK_IN_FULL, IMPORT_BATCH, MAX_EXAMPLES, SAMPLE
from d4d.load import Loaded
from d4d.manifest import (GraphState, Manifest, digest_bytes, identity_digest, importer_digest, module_digest,
                          ntriples_digest, source_digest)
from d4d.ontology import Ontology
from d4d.store import count_matches, hashed_join, load_text, mirror_graph
from d4d.validate import load_shapes
from d4d.vocab import D4D, GRAPH

ONTOLOGY_GRAPH = str(GRAPH["ontology"])
FACTS_GRAPH = str(GRAPH["facts"])
METRICS_GRAPH = str(GRAPH["metrics"])
"""The network measures of the build (added after the graph is assembled, see :func:`d4d.pipeline.write_extras`)."""

Progress = Callable[[str], None]
Counter = Callable[[str, int, "int | None"], None]
"""Progress of a long step: (what, done, total or None)."""

KINDS = {"organisations": D4D.Organization, "people": D4D.Person, "relationships": D4D.Relationship,
         "activities": D4D.Activity, "sources": D4D.SourceDocument, "citations": D4D.Citation}
"""The kinds of node the build's summary counts (each a class; its subclasses count as it)."""


@dataclass
class Inputs:
    """Everything a build's graph is made from, with the hashes that say what changed."""

    loaded: Loaded
    specs: list[SourceSpec]
    crosswalk: Path | None
    rules: list[reason.Rule]
    shapes: list[shapes_sparql.ShapeQuery]
    ontology_quads: list[ox.Quad]
    facts_nt: bytes
    engine: str
    """The hash of the ontology, rules, shapes and the code that applies them."""
    graphs: dict[str, GraphState]
    """Asserted graph IRI -> its hash (and for a source, its files)."""

    @property
    def source_bytes(self) -> int:
        """The size of the sources' files."""
        return sum(int(stat[0]) for state in self.graphs.values() for stat in state.files.values())

    @property
    def checked(self) -> str:
        """The hash of what pyshacl and HermiT check (the curated facts under this engine)."""
        return digest_bytes(self.engine, self.graphs[FACTS_GRAPH].digest)


def read_inputs(loaded: Loaded, specs: Sequence[SourceSpec], *, crosswalk: Path | None,
                before: Manifest | None = None) -> Inputs:
    """Compile the rules and shapes and hash every input (files whose size and time ``before``
    records unchanged are not read again)."""
    from d4d import assemble, manifest

    if loaded.ontology.directory is None:
        raise ValueError("the ontology has no folder: its shapes cannot be read")
    rules = reason.all_rules(loaded.ontology)
    shapes = shapes_sparql.compile_shapes(load_shapes(loaded.ontology.directory), loaded.ontology.graph)
    onto = ontology_quads(loaded.ontology.graph, ONTOLOGY_GRAPH)
    onto_nt = ox.serialize([q.triple for q in onto], format=ox.RdfFormat.N_TRIPLES) or b""
    facts_nt = loaded.facts.graph.serialize(format="nt", encoding="utf-8")
    engine = digest_bytes(onto_nt, "\n".join(r.sparql for r in rules), "\n".join(q.text() for q in shapes),
                          module_digest(reason, shapes_sparql, assemble, manifest))
    graphs = {ONTOLOGY_GRAPH: GraphState(digest_bytes(onto_nt), "ontology", len(onto)),
              FACTS_GRAPH: GraphState(ntriples_digest(facts_nt), "facts", len(loaded.facts.graph))}
    identity = identity_digest(loaded.facts.graph, crosswalk)
    for spec in specs:
        graph = source_graph(spec.name)
        known = before.graphs[graph].files if before is not None and graph in before.graphs else {}
        # the spreadsheet importer reads the ontology's class names: its source hash covers the ontology
        code = importer_digest(spec.kind) + (graphs[ONTOLOGY_GRAPH].digest if spec.kind == "spreadsheet" else "")
        digest, files = source_digest(spec.kind, spec.options, spec.paths, identity=identity, importer=code,
                                      cache=known)
        graphs[graph] = GraphState(digest, "source", 0, files)
    return Inputs(loaded, list(specs), crosswalk, rules, shapes, onto, facts_nt, engine, graphs)


@dataclass
class Assembled:
    """What :func:`assemble` made: the manifest of the graph, the imports run, the sources copied."""

    manifest: Manifest
    imports: list[ImportReport] = field(default_factory=list)
    copied: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def assemble(store: ox.Store, inputs: Inputs, *, previous: ox.Store | None = None, before: Manifest | None = None,
             strict: bool = False, progress: Progress | None = None, counter: Counter | None = None) -> Assembled:
    """Make the graph of ``inputs`` in the empty ``store``.

    ``previous`` (the last build's store, read only) and ``before`` (its manifest): a source whose
    hash is unchanged is copied from it. ``strict``: stop at a source record that cannot be read or
    breaks a shape (otherwise they are skipped or reported).

    Raises
    ------
    SourceError, ValidationError, ReasoningError
        A source cannot be read (strict: a record), breaks a shape (strict), or an individual ends up
        in two disjoint classes.
    """
    clock = time.perf_counter()
    out = Assembled(Manifest(engine=inputs.engine, checked=inputs.checked))

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        out.seconds[name] = round(out.seconds.get(name, 0.0) + now - clock, 3)
        clock = now

    def say(text: str) -> None:
        if progress is not None:
            progress(text)

    graphs = {g: GraphState(s.digest, s.kind, s.triples, s.files) for g, s in inputs.graphs.items()}
    store.extend(inputs.ontology_quads)
    # the N-Triples each source's graph was loaded from, added to the default graph by the merge
    with tempfile.TemporaryDirectory(prefix="d4d-spool-") as tmp:
        spool, texts = Path(tmp), dict[str, Path]()
        store.load(inputs.facts_nt, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(FACTS_GRAPH))
        resolver = Resolver.from_store(store, Crosswalk.load(inputs.crosswalk) if inputs.crosswalk else None)
        same_engine = before is not None and before.engine == inputs.engine
        for spec in inputs.specs:
            graph = source_graph(spec.name)
            old = before.graphs.get(graph) if before is not None else None
            texts[graph] = spool / f"{len(texts)}.nt"
            if previous is not None and old is not None and old.digest == graphs[graph].digest \
                    and previous.contains_named_graph(ox.NamedNode(graph)):
                say(f"import: {spec.name} unchanged, copied from the previous build")
                copy_graph(previous, store, graph, texts[graph])
                out.copied.append(graph)
                graphs[graph].triples = old.triples
                if same_engine:
                    graphs[graph].validation = old.validation
                lap("copy")
                continue
            say(f"import: {spec.name} ({spec.kind})")
            with open(texts[graph], "wb") as text:
                out.imports.append(_import(store, spec, resolver, inputs.loaded.ontology, strict=strict,
                                           counter=counter, spool=text))
            graphs[graph].triples = count_matches(store, f"GRAPH <{graph}> {{ ?s ?p ?o }}")
            lap("import")
        asserted = sorted(graphs)
        for graph, state in graphs.items():
            if state.kind == "source" and (graph not in out.copied or not same_engine):
                say(f"validate: {graph.rsplit('/', 1)[-1]} against the shapes ({state.triples} triples)")
                state.validation = check_source(store, inputs.shapes, graph, asserted, counter, strict=strict,
                                                triples=state.triples, files=state.files)
        lap("validate sources")
        say("store: merging the named graphs into the default graph")
        for graph in asserted:
            mirror_graph(store, graph, text=texts.get(graph))
        merged = count_matches(store, "?s ?p ?o")
        lap("merge")
    say("reason: running the rules in the store")
    reason.materialise(store, inputs.rules, into=None)
    lap("reason")
    clashes = reason.find_clashes(store, inputs.loaded.ontology)
    if clashes:
        raise _clash_error(inputs, clashes[0])
    out.manifest.graphs = graphs
    out.manifest.triples = count_matches(store, "?s ?p ?o")
    out.manifest.inferred = out.manifest.triples - merged
    out.manifest.counts = count_kinds(store, inputs.loaded.ontology, asserted)
    lap("count")
    return out


def count_kinds(store: ox.Store, ontology: Ontology, graphs: Sequence[str]) -> dict[str, Any]:
    """Distinct nodes of each kind (:data:`KINDS`) in the graph (an organisation with three types is
    one), by kind in each asserted graph (a node comes from a graph that states a type of it), and
    relationships by type, read from the built store's default graph (types there are closed under
    the class hierarchy by the rules).

    Returns ``{"kinds": {kind: n}, "by_graph": {graph: {kind: n}}, "relationships": {label: n}}``.
    """
    kinds = _table(store, f"SELECT ?k (COUNT(DISTINCT ?x) AS ?n) WHERE {{ VALUES (?c ?k) {{ {_KIND_VALUES} }} "
                          "?x a ?c } GROUP BY ?k")
    relationships = {}
    for cls in _relationship_classes(ontology):
        n = count_matches(store, f"SELECT DISTINCT ?x WHERE {{ ?x a <{cls}> }}")
        if n:
            relationships[ontology.label(cls)] = n
    return {"kinds": {k: kinds.get(k, 0) for k in KINDS}, "by_graph": _by_graph(store, graphs),
            "relationships": dict(sorted(relationships.items()))}


_KIND_VALUES = " ".join(f"(<{cls}> \"{kind}\")" for kind, cls in KINDS.items())


def _table(store: ox.Store, query: str) -> dict[str, int]:
    answer = store.query(query)
    assert isinstance(answer, ox.QuerySolutions)
    return {str(row["k"].value): int(row["n"].value) for row in answer}


def _by_graph(store: ox.Store, graphs: Sequence[str]) -> dict[str, dict[str, int]]:
    """Distinct nodes by kind of each graph of ``graphs`` (the nodes it states a type of).

    A source's nodes are many: one join with the default graph's types, which the store hashes
    (:func:`d4d.store.hashed_join`; 100k transactions: 1.9 s, against 3.1 s as a plain join in the
    order written and 16 s node by node). The ontology's and the curated facts' are few: their types are
    looked up node by node (``LATERAL``), since the join would read every typed node of the default
    graph (1M transactions: 0.03 s against 17.8 s; the update after a fact edit counts the facts
    again)."""
    out = {}
    for graph in graphs:
        nodes = f"{{ SELECT DISTINCT ?x WHERE {{ GRAPH <{graph}> {{ ?x a ?t }} }} }}"
        kinds = f"VALUES (?c ?k) {{ {_KIND_VALUES} }} ?x a ?c"
        if graph in (FACTS_GRAPH, ONTOLOGY_GRAPH):
            where = f"{nodes} LATERAL {{ {kinds} }}"
        else:
            where = f"{nodes} {hashed_join(kinds)}"
        found = _table(store, f"SELECT ?k (COUNT(DISTINCT ?x) AS ?n) WHERE {{ {where} }} GROUP BY ?k")
        if found:
            out[graph] = {k: found[k] for k in KINDS if k in found}
    return out


def _relationship_classes(ontology: Ontology) -> list[URIRef]:
    return sorted(c for c in set(ontology.graph.subjects()) if isinstance(c, URIRef)
                  and c != D4D.Relationship and ontology.is_subclass(c, D4D.Relationship))


def _import(store: ox.Store, spec: SourceSpec, resolver: Resolver, ontology: Ontology, *, strict: bool,
            counter: Counter | None, spool: BinaryIO) -> ImportReport:
    """Import one source into ``store``, reporting the records read."""

    def step(done: int) -> None:
        if counter is not None:
            counter(f"import {spec.name}", done, None)

    return import_source(store, spec, resolver=resolver, strict=strict, ontology=ontology,
                         batch_size=IMPORT_BATCH, progress=step, spool=spool)


def copy_graph(source: ox.Store, target: ox.Store, graph: str, path: Path) -> None:
    """Copy one named graph between stores through the N-Triples file ``path`` (kept: the merge loads
    it again; blank nodes keep their labels, see :func:`d4d.store.load_text`)."""
    source.dump(str(path), format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph))
    load_text(target, [path], format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(graph))


def ontology_quads(graph: Graph, name: str) -> list[ox.Quad]:
    """The ontology as quads with blank-node labels derived from the content (rdflib's canonical
    labelling), so the store and its files are the same for the same ontology."""

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


def check_source(store: ox.Store, queries: Sequence[shapes_sparql.ShapeQuery], graph: str, asserted: Sequence[str],
                 counter: Counter | None, *, strict: bool = False, triples: int = 0,
                 files: dict[str, list[Any]] | None = None) -> dict[str, Any]:
    """Run the compiled shapes on the records of one imported source (on a sample above
    :data:`~d4d.limits.CHECK_IN_FULL` triples).

    Returns the source's report: ``violations`` (how many), ``rules`` (count per rule and message),
    ``examples`` (the first :data:`~d4d.limits.MAX_EXAMPLES`, each with file and record), ``sample``.
    Open data breaks the shapes in ordinary ways: the build reports it and goes on, unless ``strict``,
    when a violation stops it (:class:`ValidationError`).
    """
    found: list[shapes_sparql.ShapeResult] = []
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
    """The error of a source's report with violations: its first example, located, and how many more."""
    first = report["examples"][0]
    more = f" (and {report['violations'] - 1} more)" if report["violations"] > 1 else ""
    return ValidationError(f"{first['field'] + ': ' if first['field'] else ''}{first['message']} "
                           f"[{first['rule']}]{more}", path=first["path"], record=first["record"],
                           violations=report["examples"])


def _count_rows(store: ox.Store, query: shapes_sparql.ShapeQuery, graph: str, asserted: Sequence[str],
                sample: int | None) -> int:
    """All the violations of one constraint (the check stops at the first few)."""
    head, _, rest = query.text(graph, sample=sample).partition("SELECT")  # head: the PREFIX lines
    answer = store.query(f"{head}SELECT (COUNT(*) AS ?d4d_n) WHERE {{ SELECT {rest} }}",
                         default_graph=[ox.NamedNode(g) for g in asserted])
    assert isinstance(answer, ox.QuerySolutions)
    return next((int(row["d4d_n"].value) for row in answer), 0)


def locate(store: ox.Store, nodes: Sequence[str], *, graph: str,
           files: dict[str, list[Any]] | None = None) -> dict[str, tuple[str | None, str]]:
    """Where imported nodes come from: (file, record) from their citations (the quote locates the record).

    The file is the document's path below the shared folder (``d4d:localFile``) or, for a file of the
    project, the one of ``files`` (path -> [size, mtime, sha256]) whose hash the document's identifier gives.
    """
    if not nodes:
        return {}
    by_hash = {f"sha256:{stat[2]}": path for path, stat in (files or {}).items() if len(stat) > 2}
    values = " ".join(f"<{n}>" for n in nodes)
    answer = store.query(
        "SELECT ?x ?quote ?file ?id WHERE { VALUES ?x { " + values + " } "
        f"GRAPH <{graph}> {{ ?x <{D4D.citation}> ?c . ?c <{D4D.quote}> ?quote ; <{D4D.citedSource}> ?doc . "
        f"OPTIONAL {{ ?doc <{D4D.localFile}> ?file }} "
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


# ---------------------------------------------------------------------------------------------
# Updating the previous build's store in place


def can_update(before: Manifest | None, inputs: Inputs) -> bool:
    """Can the previous build's store be updated in place? When only the curated facts changed: the
    same engine (ontology, rules, shapes, code) and the same sources with the same hashes. Any other
    change makes a new store (see :func:`assemble`)."""
    if before is None or before.engine != inputs.engine or set(before.graphs) != set(inputs.graphs):
        return False
    return all(before.graphs[g].digest == state.digest for g, state in inputs.graphs.items() if g != FACTS_GRAPH)


def update(store: ox.Store, inputs: Inputs, before: Manifest, *, progress: Progress | None = None) -> Assembled:
    """Update ``store``, a copy of the previous build's store, to the graph of ``inputs`` (where
    :func:`can_update` holds): the result equals a fresh build's.

    The old measures (``graph/metrics``) come out; the curated facts' graph gets its added and removed
    triples; the default graph loses the removed ones with what rested on them only, and gains the
    added ones with what follows from them (:func:`d4d.reason.retract`, :func:`d4d.reason.propagate`).
    The counts are the previous build's, moved by exactly the triples that came and went.

    Raises
    ------
    ReasoningError
        An individual ends up in two disjoint classes.
    """
    clock = time.perf_counter()
    out = Assembled(Manifest(engine=inputs.engine, checked=inputs.checked))
    graphs = {g: GraphState(s.digest, s.kind, s.triples, s.files) for g, s in inputs.graphs.items()}
    for graph, state in graphs.items():
        if state.kind == "source":
            state.triples, state.validation = before.graphs[graph].triples, before.graphs[graph].validation
    names = {ox.NamedNode(g) for g in graphs}

    def asserted(t: ox.Triple) -> bool:
        return any(q.graph_name in names for q in store.quads_for_pattern(t.subject, t.predicate, t.object))

    if progress is not None:
        progress("store: updating the previous build's store in place")
    metrics = ox.NamedNode(METRICS_GRAPH)
    measures = [q.triple for q in store.quads_for_pattern(None, None, None, metrics)]
    store.remove_graph(metrics)
    gone, back = reason.retract(store, inputs.rules, measures, asserted=asserted, follow=False)
    reason.propagate(store, inputs.rules, back)

    facts = ox.NamedNode(FACTS_GRAPH)
    old = {q.triple for q in store.quads_for_pattern(None, None, None, facts)}
    new = {q.triple for q in ox.parse(inputs.facts_nt, format=ox.RdfFormat.N_TRIPLES)}
    newly_asserted = {t for t in new - old if not asserted(t)}
    for t in old - new:
        store.remove(ox.Quad(t.subject, t.predicate, t.object, facts))
    store.extend(ox.Quad(t.subject, t.predicate, t.object, facts) for t in new - old)
    unasserted = {t for t in old - new if not asserted(t)}
    gone, back = reason.retract(store, inputs.rules, unasserted, asserted=asserted)
    added = reason.propagate(store, inputs.rules, back | (new - old))
    inserted, deleted = added - gone, gone - added
    out.seconds["update"] = round(time.perf_counter() - clock, 3)

    clashes = _clashes_among(store, inputs.loaded.ontology, inserted)
    if clashes:
        raise _clash_error(inputs, clashes[0])
    out.manifest.graphs = graphs
    out.manifest.triples = before.triples + len(inserted) - len(deleted)
    merged = before.triples - before.inferred + len(newly_asserted) - len(unasserted)
    out.manifest.inferred = out.manifest.triples - merged
    out.manifest.counts = _moved_counts(store, inputs.loaded.ontology, before.counts, inserted, deleted)
    out.seconds["count"] = round(time.perf_counter() - clock - out.seconds["update"], 3)
    return out


def _moved_counts(store: ox.Store, ontology: Ontology, counts: dict[str, Any], inserted: set[ox.Triple],
                  deleted: set[ox.Triple]) -> dict[str, Any]:
    """The counts of :func:`count_kinds` after ``inserted`` and ``deleted`` triples: a node of a kind is
    one ``rdf:type`` triple of that kind's class in the default graph, so each such triple that came
    or went moves its kind by one (and the kind of its source graphs: those that state a type of it).
    The curated facts' graph is counted again."""
    kinds = dict(counts.get("kinds", {}))
    by_graph = {g: dict(n) for g, n in counts.get("by_graph", {}).items() if g != FACTS_GRAPH}
    relationships = dict(counts.get("relationships", {}))
    kind_of = {str(cls): kind for kind, cls in KINDS.items()}
    label_of = {str(cls): ontology.label(cls) for cls in _relationship_classes(ontology)}
    rdf_type = ox.NamedNode(str(RDF.type))
    for sign, triples in ((1, inserted), (-1, deleted)):
        for t in triples:
            if t.predicate != rdf_type or not isinstance(t.object, ox.NamedNode):
                continue
            cls = t.object.value
            if cls in label_of:
                label = label_of[cls]
                relationships[label] = relationships.get(label, 0) + sign
            if cls not in kind_of:
                continue
            kind = kind_of[cls]
            kinds[kind] = kinds.get(kind, 0) + sign
            for graph, found in by_graph.items():
                if next(store.quads_for_pattern(t.subject, rdf_type, None, ox.NamedNode(graph)), None) is not None:
                    found[kind] = found.get(kind, 0) + sign
    by_graph.update(_by_graph(store, [FACTS_GRAPH]))
    return {"kinds": {k: kinds.get(k, 0) for k in KINDS},
            "by_graph": {g: {k: n[k] for k in KINDS if n.get(k)} for g, n in sorted(by_graph.items()) if any(n.values())},
            "relationships": {k: v for k, v in sorted(relationships.items()) if v}}


def _clashes_among(store: ox.Store, ontology: Ontology, inserted: set[ox.Triple]) -> list[tuple[str, str, str]]:
    """Individuals that an inserted type statement puts in two disjoint classes."""
    pairs = reason.disjoint_pairs(ontology)
    other: dict[str, list[str]] = {}
    for a, b in pairs:
        other.setdefault(a, []).append(b)
        other.setdefault(b, []).append(a)
    rdf_type = ox.NamedNode(str(RDF.type))
    found = set()
    for t in inserted:
        if t.predicate == rdf_type and isinstance(t.object, ox.NamedNode) and isinstance(t.subject, ox.NamedNode):
            for cls in other.get(t.object.value, []):
                if ox.Quad(t.subject, rdf_type, ox.NamedNode(cls), ox.DefaultGraph()) in store:
                    a, b = sorted((t.object.value, cls))
                    found.add((t.subject.value, a, b))
    return sorted(found)


def _clash_error(inputs: Inputs, clash: tuple[str, str, str]) -> ReasoningError:
    x, a, b = clash
    origin = inputs.loaded.facts.origin(URIRef(x))
    return ReasoningError(f"{x} is both {a} and {b}, which are disjoint",
                          path=origin.path if origin else None, record=origin.where() if origin else None)
