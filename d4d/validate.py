"""The validate stage: the facts against the SHACL shapes of ``ontology/shapes.ttl`` (pyshacl).

Every violation is reported with the fact file, the record and its line, the field and the rule, so
the person who edits the facts can fix it without reading RDF.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from typing import Any

from pyshacl import validate as shacl_validate
from rdflib import RDF, RDFS, Graph, Namespace, URIRef
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query
from rdflib.plugins.stores.memory import Memory
from rdflib.term import Node

from d4d.errors import OntologyError, ValidationError
from d4d.load import Loaded

SH = Namespace("http://www.w3.org/ns/shacl#")


@dataclass(frozen=True)
class Violation:
    """One SHACL result, located in the fact files."""

    path: str | None
    record: str | None
    field: str | None
    message: str
    rule: str
    severity: str
    value: str | None

    def __str__(self) -> str:
        where = ", ".join(p for p in (self.path, self.record) if p)
        field = f"{self.field}: " if self.field else ""
        value = f" (value: {self.value})" if self.value else ""
        return f"{where}: {field}{self.message}{value} [{self.rule}]"


def load_shapes(ontology_dir: str | Path) -> Graph:
    """Parse ``shapes.ttl`` of the ontology folder."""
    path = Path(ontology_dir) / "shapes.ttl"
    if not path.is_file():
        raise OntologyError("no shapes.ttl: the SHACL shapes are missing", path=path)
    try:
        return Graph().parse(path, format="turtle")
    except Exception as exc:  # rdflib raises several parser exception types
        raise OntologyError(f"not valid Turtle: {exc}", path=path) from exc


class _PreparingStore(Memory):
    """An rdflib in-memory store that parses each SPARQL text once. pyshacl runs a SPARQL constraint's
    query once for each focus node, and rdflib would parse the same text each time: nine tenths of the
    validation's time on the seed graph. rdflib hands a query to the store first (``use_store_provided``);
    this store prepares it, keeps it, and has rdflib evaluate the prepared query."""

    def __init__(self) -> None:
        super().__init__()
        self._prepared: dict[tuple[str, tuple[tuple[str, Any], ...]], Query] = {}

    def query(self, query: Any, initNs: Any, initBindings: Any, queryGraph: Any,  # noqa: N803
              **kwargs: Any) -> Any:
        if not isinstance(query, str) or kwargs or queryGraph == "__UNION__":
            raise NotImplementedError  # rdflib evaluates it as it always does
        key = (query, tuple(sorted(initNs.items())))
        prepared = self._prepared.get(key)
        if prepared is None:
            prepared = self._prepared[key] = prepareQuery(query, initNs=initNs)
        return Graph(store=self, identifier=queryGraph).query(prepared, initBindings=initBindings,
                                                              use_store_provided=False)


def _short(node: Node | None) -> str | None:
    if node is None:
        return None
    text = str(node)
    return text.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def check(loaded: Loaded, *, shapes: Graph | None = None) -> list[Violation]:
    """Validate the facts and return every violation (an empty list when they conform).

    Parameters
    ----------
    loaded:
        The output of the load stage.
    shapes:
        The SHACL shapes; by default ``shapes.ttl`` beside the ontology.
    """
    if shapes is None:
        if loaded.ontology.directory is None:
            raise OntologyError("no shapes given and the ontology has no folder")
        shapes = load_shapes(loaded.ontology.directory)
    # SHACL's sh:class and sh:targetClass follow rdfs:subClassOf in the data graph: the class hierarchy
    # and the types of the ontology's individuals are all of the ontology they need (pyshacl's ont_graph mixing is very slow on an OWL ontology).
    data = Graph(store=_PreparingStore())
    data += loaded.facts.graph
    # Individuals the ontology defines (the sectors) are referenced by facts: their types count too.
    for prop in (RDFS.subClassOf, RDF.type):
        for triple in loaded.ontology.graph.triples((None, prop, None)):
            if isinstance(triple[0], URIRef) and isinstance(triple[2], URIRef):
                data.add(triple)
    conforms, results, _ = shacl_validate(
        data_graph=data,
        shacl_graph=shapes,
        inference="none",
        advanced=True,
        inplace=True,  # ``data`` is this check's own copy: pyshacl need not clone it
        allow_warnings=True,
    )
    if conforms:
        return []
    assert isinstance(results, Graph)
    violations = []
    for result in results.subjects(RDF.type, SH.ValidationResult):
        focus = results.value(result, SH.focusNode)
        origin = loaded.facts.origin(focus) if isinstance(focus, URIRef) else None
        message = results.value(result, SH.resultMessage)
        shape = results.value(result, SH.sourceShape)
        component = results.value(result, SH.sourceConstraintComponent)
        rule = _short(shape) if isinstance(shape, URIRef) else f"{_short(component)}"
        value = results.value(result, SH.value)
        violations.append(Violation(
            path=origin.path if origin else None,
            record=origin.where() if origin else (str(focus) if focus is not None else None),
            field=_short(results.value(result, SH.resultPath)),
            message=str(message) if message else f"violates {_short(component)}",
            rule=rule or "shape",
            severity=_short(results.value(result, SH.resultSeverity)) or "Violation",
            value=str(value) if value is not None and not isinstance(value, URIRef) else _short(value),
        ))
    return sorted(violations, key=lambda v: (v.path or "", v.record or "", v.field or "", v.message))


def validate(loaded: Loaded, *, shapes: Graph | None = None) -> None:
    """Validate the facts; raise if any rule is violated.

    Raises
    ------
    ValidationError
        With ``violations`` listing each one; its message gives the first and the count.
    """
    violations = [v for v in check(loaded, shapes=shapes) if v.severity == "Violation"]
    if violations:
        first = violations[0]
        more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
        raise ValidationError(
            f"{first.field + ': ' if first.field else ''}{first.message}"
            f"{' (value: ' + first.value + ')' if first.value else ''} [{first.rule}]{more}",
            path=first.path, record=first.record,
            violations=[v.__dict__ for v in violations],
        )
