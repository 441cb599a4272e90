"""The SHACL shapes compiled into SPARQL queries that find their violations inside a store.

pyshacl validates the curated facts (a few thousand triples) in a second, but it works on rdflib's
in-memory graphs and cannot take an imported source of millions of triples. ``ontology/shapes.ttl``
stays the single statement of the rules: this module reads it and compiles every constraint into one
SPARQL SELECT that returns the focus nodes (and values) violating it, run by pyoxigraph inside the
on-disk store, one source graph at a time. A test checks that on broken fixtures the compiled queries
find exactly the results pyshacl finds.

Supported (the subset ``shapes.ttl`` uses; anything else is an :class:`OntologyError`, never silently
skipped): targets ``sh:targetClass``, ``sh:targetNode``, ``sh:targetSubjectsOf``,
``sh:targetObjectsOf``; property shapes with an IRI ``sh:path``; ``sh:minCount``, ``sh:maxCount``,
``sh:class``, ``sh:datatype``, ``sh:nodeKind``, ``sh:minLength``, ``sh:maxLength``, ``sh:pattern``
(with ``sh:flags``), ``sh:minExclusive``, ``sh:minInclusive``, ``sh:maxExclusive``,
``sh:maxInclusive``, ``sh:in``, ``sh:hasValue``, ``sh:node``, ``sh:not``, ``sh:and``, ``sh:or``,
``sh:sparql`` (SELECT constraints with ``$this`` and ``?value``, prefixes from ``sh:declare``);
``sh:message``, ``sh:severity``, ``sh:deactivated``.

As in SHACL, ``sh:class`` and the class targets follow ``rdfs:subClassOf`` (taken from the ontology);
``sh:datatype`` compares the datatype only (a literal whose text is not valid for its datatype is the
loader's and the importers' business: they only write well-formed literals).

>>> from rdflib import Graph
>>> shapes = Graph().parse(data='''
... @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <https://example.org/> .
... ex:S a sh:NodeShape ; sh:targetClass ex:Thing ;
...     sh:property [ sh:path ex:name ; sh:minCount 1 ; sh:message "needs a name" ] .''', format="turtle")
>>> [q.component for q in compile_shapes(shapes)]
['MinCountConstraintComponent']
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import RDF, RDFS, BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from d4d.errors import OntologyError, ValidationError

SH = Namespace("http://www.w3.org/ns/shacl#")

_VALUE_PARAMETERS = (SH["class"], SH.datatype, SH.nodeKind, SH.minLength, SH.maxLength, SH.pattern,
                     SH.minExclusive, SH.minInclusive, SH.maxExclusive, SH.maxInclusive, SH["in"],
                     SH.node, SH["not"], SH["and"], SH["or"])
_COUNT_PARAMETERS = (SH.minCount, SH.maxCount, SH.hasValue)
_IGNORED = frozenset({RDF.type, RDFS.comment, RDFS.label, SH.message, SH.severity, SH.deactivated, SH.path,
                      SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.flags,
                      SH.sparql, SH.property, SH.name, SH.description, SH.order, SH.group, SH.declare,
                      SH.prefixes})
_COMPONENT = {
    SH["class"]: "ClassConstraintComponent", SH.datatype: "DatatypeConstraintComponent",
    SH.nodeKind: "NodeKindConstraintComponent", SH.minLength: "MinLengthConstraintComponent",
    SH.maxLength: "MaxLengthConstraintComponent", SH.pattern: "PatternConstraintComponent",
    SH.minExclusive: "MinExclusiveConstraintComponent", SH.minInclusive: "MinInclusiveConstraintComponent",
    SH.maxExclusive: "MaxExclusiveConstraintComponent", SH.maxInclusive: "MaxInclusiveConstraintComponent",
    SH["in"]: "InConstraintComponent", SH.node: "NodeConstraintComponent", SH["not"]: "NotConstraintComponent",
    SH["and"]: "AndConstraintComponent", SH["or"]: "OrConstraintComponent",
    SH.minCount: "MinCountConstraintComponent", SH.maxCount: "MaxCountConstraintComponent",
    SH.hasValue: "HasValueConstraintComponent", SH.sparql: "SPARQLConstraintComponent",
}
_DEFAULT_MESSAGE = {
    SH["class"]: "value is not an instance of {}", SH.datatype: "value is not a literal of datatype {}",
    SH.nodeKind: "value is not of node kind {}", SH.minLength: "value is shorter than {} characters",
    SH.maxLength: "value is longer than {} characters", SH.pattern: "value does not match the pattern {}",
    SH.minExclusive: "value is not greater than {}", SH.minInclusive: "value is not at least {}",
    SH.maxExclusive: "value is not less than {}", SH.maxInclusive: "value is not at most {}",
    SH["in"]: "value is not one of the allowed values", SH.node: "value does not conform to {}",
    SH["not"]: "conforms to {}, which it must not", SH["and"]: "does not conform to all of the shapes",
    SH["or"]: "conforms to none of the alternatives", SH.minCount: "fewer than {} values",
    SH.maxCount: "more than {} values", SH.hasValue: "does not have the value {}",
}
_NODE_KINDS = {
    SH.IRI: "isIRI({v})", SH.BlankNode: "isBlank({v})", SH.Literal: "isLiteral({v})",
    SH.BlankNodeOrIRI: "(isBlank({v}) || isIRI({v}))", SH.BlankNodeOrLiteral: "(isBlank({v}) || isLiteral({v}))",
    SH.IRIOrLiteral: "(isIRI({v}) || isLiteral({v}))",
}
_COMPARE = {SH.minExclusive: ">", SH.minInclusive: ">=", SH.maxExclusive: "<", SH.maxInclusive: "<="}


@dataclass(frozen=True)
class ShapeQuery:
    """One constraint of a shape, as a SPARQL SELECT of its violations.

    ``sparql`` holds a ``{target}`` slot for the pattern that binds ``?this`` to the focus nodes
    (see :meth:`text`); it selects ``?this`` and, for constraints on values, ``?value``.
    """

    shape: str
    component: str
    path: str | None
    message: str
    severity: str
    target: str
    sparql: str

    def text(self, graph: str | None = None, *, sample: int | None = None) -> str:
        """The query; with ``graph``, only focus nodes typed (or targeted) in that named graph; with
        ``sample``, only the first ``sample`` of them in the store's order (which follows hashes of the
        IRIs, so the sample is spread over the whole source)."""
        target = self.target if graph is None else f"GRAPH <{graph}> {{ {self.target} }}"
        if sample is not None:
            target = f"{{ SELECT DISTINCT ?this WHERE {{ {target} }} LIMIT {int(sample)} }}"
        return self.sparql.replace("{target}", target)


@dataclass(frozen=True)
class ShapeResult:
    """One violation found in a store: the focus node, the value, and the rule it breaks."""

    focus: str
    value: str | None
    path: str | None
    component: str
    shape: str
    message: str
    severity: str


# ---------------------------------------------------------------------------------------------
# Compiling


def _n3(term: Node) -> str:
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, Literal):
        return term.n3()
    raise OntologyError(f"a blank node cannot be a constant of a shape ({term!r})")


def _string(text: str) -> str:
    return Literal(text).n3()


def _list(graph: Graph, head: Node | None) -> list[Node]:
    return list(Collection(graph, head)) if head is not None else []


class _Compiler:
    def __init__(self, shapes: Graph, hierarchy: Graph) -> None:
        self.shapes = shapes
        self.hierarchy = hierarchy
        self.counter = itertools.count()
        self.prefixes = self._prefixes()

    def fresh(self, stem: str) -> str:
        return f"?{stem}{next(self.counter)}"

    def _prefixes(self) -> dict[str, str]:
        out = {}
        for decl in self.shapes.objects(None, SH.declare):
            prefix, namespace = self.shapes.value(decl, SH.prefix), self.shapes.value(decl, SH.namespace)
            if prefix is not None and namespace is not None:
                out[str(prefix)] = str(namespace)
        return out

    def subclasses(self, cls: URIRef) -> list[URIRef]:
        """The class and every class below it (``rdfs:subClassOf*``), sorted."""
        seen = {cls}
        todo = [cls]
        while todo:
            for sub in self.hierarchy.subjects(RDFS.subClassOf, todo.pop()):
                if isinstance(sub, URIRef) and sub not in seen:
                    seen.add(sub)
                    todo.append(sub)
        return sorted(seen)

    def instance_of(self, node: str, cls: Node) -> str:
        if not isinstance(cls, URIRef):
            raise OntologyError(f"sh:class needs a class IRI, not {cls!r}")
        var = self.fresh("c")
        classes = " ".join(f"<{c}>" for c in self.subclasses(cls))
        return f"EXISTS {{ {node} a {var} . VALUES {var} {{ {classes} }} }}"

    def check(self, shape: Node) -> None:
        for prop in set(self.shapes.predicates(shape, None)):
            if prop in _IGNORED or prop in _VALUE_PARAMETERS or prop in _COUNT_PARAMETERS:
                continue
            if str(prop).startswith(str(SH)):
                raise OntologyError(f"the SHACL parameter {prop} is not supported by the SPARQL compilation "
                                    "of the shapes (d4d/shapes_sparql.py)")
        path = self.shapes.value(shape, SH.path)
        if path is not None and not isinstance(path, URIRef):
            raise OntologyError(f"only IRI paths are supported, not {path!r}")

    def value_condition(self, param: URIRef, arg: Node, v: str) -> str:
        """A SPARQL expression true when the value node ``v`` violates ``param arg``."""
        if param == SH["class"]:
            return f"!{self.instance_of(v, arg)}"
        if param == SH.datatype:
            return f"(!isLiteral({v}) || datatype({v}) != {_n3(arg)})"
        if param == SH.nodeKind:
            if not isinstance(arg, URIRef) or arg not in _NODE_KINDS:
                raise OntologyError(f"unknown sh:nodeKind {arg!r}")
            return "!" + _NODE_KINDS[arg].format(v=v)
        if param in (SH.minLength, SH.maxLength):
            op = "<" if param == SH.minLength else ">"
            return f"(isBlank({v}) || STRLEN(STR({v})) {op} {int(arg)})"  # type: ignore[call-overload]
        if param == SH.pattern:
            flags = [str(f) for f in self.flags_of(arg)]
            extra = f", {_string(flags[0])}" if flags else ""
            return f"(isBlank({v}) || !REGEX(STR({v}), {_string(str(arg))}{extra}))"
        if param in _COMPARE:
            return f"!COALESCE({v} {_COMPARE[param]} {_n3(arg)}, false)"
        if param == SH["in"]:
            options = _list(self.shapes, arg)
            if not options:
                return "true"
            return "!(" + " || ".join(f"sameTerm({v}, {_n3(o)})" for o in options) + ")"
        if param == SH.node:
            return self.violates(arg, v)
        if param == SH["not"]:
            return f"!{self.violates(arg, v)}"
        if param == SH["and"]:
            return "(" + " || ".join(self.violates(s, v) for s in _list(self.shapes, arg)) + ")"
        if param == SH["or"]:
            members = _list(self.shapes, arg)
            return "(" + " && ".join(self.violates(s, v) for s in members) + ")" if members else "true"
        raise OntologyError(f"unsupported SHACL parameter {param}")

    def flags_of(self, pattern: Node) -> list[Node]:
        shapes = list(self.shapes.subjects(SH.pattern, pattern))
        return [f for s in shapes for f in self.shapes.objects(s, SH.flags)][:1]

    def count_condition(self, param: URIRef, arg: Node, focus: str, path: URIRef) -> str:
        """A SPARQL expression true when the focus node violates a count constraint on ``path``."""
        if param == SH.hasValue:
            return f"NOT EXISTS {{ {focus} <{path}> {_n3(arg)} }}"
        n = int(arg)  # type: ignore[call-overload]
        if param == SH.minCount:
            if n <= 0:
                return "false"
            return f"NOT EXISTS {{ {self.distinct_values(focus, path, n)} }}"
        return f"EXISTS {{ {self.distinct_values(focus, path, n + 1)} }}"

    def distinct_values(self, focus: str, path: URIRef, n: int) -> str:
        """A pattern matching when ``focus`` has at least ``n`` distinct values of ``path``."""
        if n > 6:
            raise OntologyError(f"counts above 5 are not supported by the SPARQL compilation ({n - 1})")
        names = [self.fresh("n") for _ in range(n)]
        pattern = " ".join(f"{focus} <{path}> {name} ." for name in names)
        pairs = [f"!sameTerm({a}, {b})" for a, b in itertools.combinations(names, 2)]
        return pattern + (f" FILTER({' && '.join(pairs)})" if pairs else "")

    def violates(self, shape: Node, focus: str) -> str:
        """A SPARQL expression true when ``focus`` does not conform to ``shape`` (for sh:node & co.)."""
        self.check(shape)
        if (shape, SH.sparql, None) in self.shapes:
            raise OntologyError("a SPARQL constraint inside sh:node/sh:or/sh:not is not supported")
        path = self.shapes.value(shape, SH.path)
        parts: list[str] = []
        if isinstance(path, URIRef):
            for param in _COUNT_PARAMETERS:
                for arg in self.shapes.objects(shape, param):
                    parts.append(self.count_condition(param, arg, focus, path))
            for param in _VALUE_PARAMETERS:
                for arg in self.shapes.objects(shape, param):
                    v = self.fresh("v")
                    parts.append(f"EXISTS {{ {focus} <{path}> {v} . FILTER({self.value_condition(param, arg, v)}) }}")
        else:
            for param in _VALUE_PARAMETERS:
                for arg in self.shapes.objects(shape, param):
                    parts.append(self.value_condition(param, arg, focus))
        for child in self.shapes.objects(shape, SH.property):
            parts.append(self.violates(child, focus))
        return "(" + " || ".join(parts) + ")" if parts else "false"

    # -- top-level queries, one per constraint -------------------------------------------------

    def target(self, shape: Node) -> str | None:
        options = []
        classes: set[URIRef] = set()
        for cls in self.shapes.objects(shape, SH.targetClass):
            if not isinstance(cls, URIRef):
                raise OntologyError(f"sh:targetClass needs a class IRI, not {cls!r}")
            classes.update(self.subclasses(cls))
        if classes:
            options.append(f"?this a ?target . VALUES ?target {{ {' '.join(f'<{c}>' for c in sorted(classes))} }}")
        for node in sorted(self.shapes.objects(shape, SH.targetNode), key=str):
            options.append(f"BIND({_n3(node)} AS ?this) FILTER EXISTS {{ {{ ?this ?tp ?to }} UNION {{ ?ts ?tp ?this }} }}")
        for prop in sorted(self.shapes.objects(shape, SH.targetSubjectsOf), key=str):
            options.append(f"?this {_n3(prop)} ?tobj .")
        for prop in sorted(self.shapes.objects(shape, SH.targetObjectsOf), key=str):
            options.append(f"?tsub {_n3(prop)} ?this .")
        if not options:
            return None
        return " UNION ".join(f"{{ {o} }}" for o in options) if len(options) > 1 else options[0]

    def message(self, shape: Node, param: URIRef | None, arg: Node | None, fallback: Node | None = None) -> str:
        for where in (shape, fallback):
            if where is None:
                continue
            texts = sorted(str(m) for m in self.shapes.objects(where, SH.message))
            if texts:
                return texts[0]
        if param is None:
            return "violates a SPARQL constraint"
        shown = _short(arg) if isinstance(arg, URIRef) else (str(arg) if isinstance(arg, Literal) else "")
        return _DEFAULT_MESSAGE[param].format(shown)

    def severity(self, shape: Node) -> str:
        value = self.shapes.value(shape, SH.severity)
        return _short(value) if isinstance(value, URIRef) else "Violation"

    def queries(self) -> list[ShapeQuery]:
        out: list[ShapeQuery] = []
        shapes = sorted({s for s in self.shapes.subjects(None, None)
                         if any((s, p, None) in self.shapes for p in
                                (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf))},
                        key=str)
        for shape in shapes:
            if _true(self.shapes.value(shape, SH.deactivated)):
                continue
            target = self.target(shape)
            assert target is not None
            name = str(shape)
            self.check(shape)
            severity = self.severity(shape)
            # constraints on the focus node itself
            for param in _VALUE_PARAMETERS:
                for arg in sorted(self.shapes.objects(shape, param), key=str):
                    condition = self.value_condition(param, arg, "?this")
                    out.append(ShapeQuery(name, _COMPONENT[param], None, self.message(shape, param, arg), severity,
                                          target, f"SELECT DISTINCT ?this (?this AS ?value) WHERE {{ {{target}} "
                                                  f"FILTER({condition}) }}"))
            for constraint in sorted(self.shapes.objects(shape, SH.sparql), key=str):
                out.append(self.sparql_query(shape, constraint, target, severity))
            for prop in sorted(self.shapes.objects(shape, SH.property), key=lambda p: str(self.shapes.value(p, SH.path))):
                if _true(self.shapes.value(prop, SH.deactivated)):
                    continue
                self.check(prop)
                path = self.shapes.value(prop, SH.path)
                if not isinstance(path, URIRef):
                    raise OntologyError(f"a property shape of {shape} has no IRI sh:path")
                prop_severity = self.severity(prop) if (prop, SH.severity, None) in self.shapes else severity
                for param in _COUNT_PARAMETERS:
                    for arg in self.shapes.objects(prop, param):
                        condition = self.count_condition(param, arg, "?this", path)
                        out.append(ShapeQuery(name, _COMPONENT[param], str(path), self.message(prop, param, arg),
                                              prop_severity, target,
                                              f"SELECT DISTINCT ?this WHERE {{ {{target}} FILTER({condition}) }}"))
                for param in _VALUE_PARAMETERS:
                    for arg in sorted(self.shapes.objects(prop, param), key=str):
                        condition = self.value_condition(param, arg, "?value")
                        out.append(ShapeQuery(name, _COMPONENT[param], str(path), self.message(prop, param, arg),
                                              prop_severity, target,
                                              f"SELECT DISTINCT ?this ?value WHERE {{ {{target}} "
                                              f"?this <{path}> ?value . FILTER({condition}) }}"))
        return out

    def sparql_query(self, shape: Node, constraint: Node, target: str, severity: str) -> ShapeQuery:
        select = self.shapes.value(constraint, SH.select)
        if select is None:
            raise OntologyError(f"the SPARQL constraint of {shape} has no sh:select")
        text = str(select).replace("$this", "?this")
        prefixes = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in sorted(self.prefixes.items()))
        message = self.message(constraint, None, None, fallback=shape)
        return ShapeQuery(str(shape), _COMPONENT[SH.sparql], None, message, severity, target,
                          f"{prefixes}SELECT DISTINCT ?this ?value WHERE {{ {{target}} {{ {text} }} }}")


def _true(node: Node | None) -> bool:
    return isinstance(node, Literal) and bool(node.toPython())


def _short(node: Node | str | None) -> str:
    text = str(node)
    return text.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def compile_shapes(shapes: Graph, ontology: Graph | None = None) -> list[ShapeQuery]:
    """Compile SHACL shapes into one violation query per constraint.

    Parameters
    ----------
    shapes:
        The shapes graph (``ontology/shapes.ttl``).
    ontology:
        The class hierarchy (``rdfs:subClassOf``) that class targets and ``sh:class`` follow; by
        default the shapes graph's own.

    Returns
    -------
    list of ShapeQuery
        In a stable order (by shape, then constraint).

    Raises
    ------
    OntologyError
        The shapes use a SHACL feature that this compilation does not support.
    """
    hierarchy = ontology if ontology is not None else shapes
    return _Compiler(shapes, hierarchy).queries()


# ---------------------------------------------------------------------------------------------
# Running


def _value(term: object) -> str | None:
    if term is None:
        return None
    if isinstance(term, ox.Literal):
        return term.value
    return str(getattr(term, "value", term))


def check_store(store: ox.Store, queries: Sequence[ShapeQuery], *, graph: str | None = None,
                data_graphs: Iterable[str] | None = None, limit: int | None = None,
                sample: int | None = None) -> list[ShapeResult]:
    """Run compiled shape queries in a store and return every violation.

    Parameters
    ----------
    store:
        A pyoxigraph store (in memory or on disk).
    queries:
        The output of :func:`compile_shapes`.
    graph:
        Check only the focus nodes that are typed (targeted) in this named graph, e.g. one imported
        source; their values and the types of their values are looked up in ``data_graphs``.
    data_graphs:
        The named graphs that hold the data (by default the union of every graph of the store).
        Leave out the graph of materialised inferences: the shapes constrain what is asserted.
    limit:
        Stop each query after this many results (for a quick report on a very broken source).
    sample:
        Check only this many focus nodes per constraint (see :meth:`ShapeQuery.text`): the shapes on
        a sample of a source too large to check in full in the time of a build.

    Returns
    -------
    list of ShapeResult
        Sorted by focus node, component, path and value.

    Raises
    ------
    ValidationError
        A query fails to run (a malformed sh:select).
    """
    results: set[ShapeResult] = set()
    options: dict[str, object] = {}
    if data_graphs is not None:
        options["default_graph"] = [ox.NamedNode(g) for g in data_graphs]
    else:
        options["use_default_graph_as_union"] = True
    suffix = f" LIMIT {limit}" if limit else ""
    for query in queries:
        try:
            answer = store.query(query.text(graph, sample=sample) + suffix, **options)  # type: ignore[arg-type]
        except (SyntaxError, OSError, ValueError) as exc:
            raise ValidationError(f"the shape query of {_short(query.shape)} ({query.component}) failed: {exc}") \
                from exc
        assert isinstance(answer, ox.QuerySolutions)
        has_value = any(v.value == "value" for v in answer.variables)
        for row in answer:
            results.add(ShapeResult(
                focus=str(_value(row["this"])), value=_value(row["value"]) if has_value else None,
                path=query.path, component=query.component, shape=query.shape, message=query.message,
                severity=query.severity))
    return sorted(results, key=lambda r: (r.focus, r.component, r.path or "", r.value or "", r.shape))


def iter_results(results: Iterable[ShapeResult], *, severity: str = "Violation") -> Iterator[ShapeResult]:
    """The results of one severity (``Violation`` by default)."""
    return (r for r in results if r.severity == severity)


__all__ = ["SH", "ShapeQuery", "ShapeResult", "check_store", "compile_shapes", "iter_results"]
