"""The ontology as data: which types and fields fact files may use, which relationships are edges.

Everything here is read from the Turtle files in ``ontology/``: adding a relationship type, a field or a
sector touches the ontology, not Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.exceptions import ParserError
from rdflib.namespace import OWL, SKOS, XSD

from d4d.errors import OntologyError
from d4d.vocab import D4D, SCHEMA

ONTOLOGY_FILES = ("d4d.ttl", "sectors.ttl")
"""The ontology proper; ``shapes.ttl`` (SHACL) and ``rules/`` are read by the stages that use them.
Further ``*.ttl`` files in the folder (e.g. ``metrics.ttl``) are part of the ontology too."""

NON_ONTOLOGY_FILES = ("shapes.ttl",)

_ABSTRACT = (D4D.Agent, D4D.Fact, D4D.Relationship)


@dataclass(frozen=True)
class PropertySpec:
    """How a fact-file field maps onto an ontology property."""

    iri: URIRef
    key: str
    is_object: bool
    datatype: URIRef | None = None
    value_format: str | None = None
    range: URIRef | None = None


@dataclass(frozen=True)
class EdgeType:
    """A relationship class that becomes an edge of the network, as its annotations declare."""

    iri: URIRef
    name: str
    label: str
    source: URIRef
    target: URIRef
    directed: bool
    shortcut: URIRef | None
    weight: URIRef | None
    color: str
    dashes: bool
    #: the kinds (actor class local names) that can hold the relationship at each end (empty: not declared)
    source_kinds: frozenset[str] = frozenset()
    target_kinds: frozenset[str] = frozenset()
    #: the analysis proposes new relationships of this class
    recommended: bool = False


@dataclass(frozen=True)
class Sector:
    """A concept of the sector scheme."""

    iri: URIRef
    slug: str
    label: str
    color: str


@dataclass(frozen=True)
class Kind:
    """An actor class (a kind of organisation, or Person) with its drawing shape."""

    iri: URIRef
    name: str
    label: str
    shape: str


@dataclass
class Ontology:
    """The parsed ontology and the lookups the pipeline needs.

    Build it with :func:`load_ontology`.
    """

    graph: Graph
    directory: Path | None = None
    _supers: dict[URIRef, frozenset[URIRef]] = field(default_factory=dict, repr=False)

    def superclasses(self, cls: URIRef) -> frozenset[URIRef]:
        """The class and all its named superclasses (transitively)."""
        if cls not in self._supers:
            seen = {cls}
            todo = [cls]
            while todo:
                for sup in self.graph.objects(todo.pop(), RDFS.subClassOf):
                    if isinstance(sup, URIRef) and sup not in seen:
                        seen.add(sup)
                        todo.append(sup)
            self._supers[cls] = frozenset(seen)
        return self._supers[cls]

    def is_subclass(self, cls: URIRef, of: URIRef) -> bool:
        return of in self.superclasses(cls)

    def label(self, term: URIRef) -> str:
        """The English label of a term, or its local name."""
        for value in self.graph.objects(term, RDFS.label):
            return str(value)
        text = str(term)
        return text.rsplit("#", 1)[-1].rsplit("/", 1)[-1]

    @cached_property
    def classes(self) -> dict[str, URIRef]:
        """Local name -> IRI of every class the d4d namespace defines."""
        out = {}
        for cls in self.graph.subjects(RDF.type, OWL.Class):
            if isinstance(cls, URIRef) and str(cls).startswith(str(D4D)):
                out[str(cls)[len(str(D4D)):]] = cls
        return dict(sorted(out.items()))

    @cached_property
    def defined_classes(self) -> frozenset[URIRef]:
        """Classes the reasoner fills in: equivalent to an intersection (e.g. Funder = Agent and funds some)."""
        return frozenset(
            cls for cls in self.classes.values()
            for expr in self.graph.objects(cls, OWL.equivalentClass)
            if (expr, OWL.intersectionOf, None) in self.graph
        )

    @cached_property
    def record_types(self) -> dict[str, URIRef]:
        """Types a record in a fact file may have: concrete actor, fact, source, place and role classes."""
        roots = (D4D.Agent, D4D.Fact, D4D.SourceDocument, D4D.Place, D4D.Role)
        out = {}
        for name, cls in self.classes.items():
            if cls in _ABSTRACT or cls in self.defined_classes:
                continue
            if any(self.is_subclass(cls, root) for root in roots):
                out[name] = cls
        return out

    @cached_property
    def properties(self) -> dict[URIRef, PropertySpec]:
        """Every d4d property that fact files may use, keyed by IRI."""
        out: dict[URIRef, PropertySpec] = {}
        for kind, is_object in ((OWL.ObjectProperty, True), (OWL.DatatypeProperty, False)):
            for prop in self.graph.subjects(RDF.type, kind):
                if not (isinstance(prop, URIRef) and str(prop).startswith(str(D4D))):
                    continue
                if (prop, SCHEMA.domainIncludes, None) not in self.graph:
                    continue
                key = self.graph.value(prop, D4D.factKey)
                rng = self.graph.value(prop, RDFS.range)
                fmt = self.graph.value(prop, D4D.valueFormat)
                out[prop] = PropertySpec(
                    iri=prop,
                    key=str(key) if key is not None else str(prop)[len(str(D4D)):],
                    is_object=is_object,
                    datatype=None if is_object or not isinstance(rng, URIRef) else rng,
                    value_format=str(fmt) if fmt is not None else None,
                    range=rng if is_object and isinstance(rng, URIRef) else None,
                )
        return dict(sorted(out.items()))

    def fields(self, record_type: URIRef) -> dict[str, PropertySpec]:
        """Fact-file key -> property for a record type (``schema:domainIncludes`` on it or a superclass)."""
        supers = self.superclasses(record_type)
        out = {}
        for prop, spec in self.properties.items():
            if any(dom in supers for dom in self.graph.objects(prop, SCHEMA.domainIncludes)):
                out[spec.key] = spec
        return dict(sorted(out.items()))

    @cached_property
    def edge_types(self) -> dict[str, EdgeType]:
        """Relationship classes that are network edges, keyed by class local name."""
        out = {}
        for cls in sorted(c for c in self.graph.subjects(D4D.edgeSource, None) if isinstance(c, URIRef)):
            if not isinstance(cls, URIRef):
                continue
            name = str(cls)[len(str(D4D)):]

            def one(prop: URIRef) -> URIRef | Literal | None:
                value = self.graph.value(cls, prop)
                return value if isinstance(value, (URIRef, Literal)) else None

            source, target = one(D4D.edgeSource), one(D4D.edgeTarget)
            if not isinstance(source, URIRef) or not isinstance(target, URIRef):
                raise OntologyError(f"{name} declares d4d:edgeSource but no d4d:edgeTarget property",
                                    path=self._where, record=name)
            directed = one(D4D.edgeDirected)
            shortcut, weight = one(D4D.shortcut), one(D4D.edgeWeight)
            dashes = one(D4D.dashes)
            recommended = one(D4D.recommendedTie)

            def kinds(prop: URIRef) -> frozenset[str]:
                return frozenset(str(k)[len(str(D4D)):] for k in self.graph.objects(cls, prop)
                                 if isinstance(k, URIRef) and str(k).startswith(str(D4D)))

            out[name] = EdgeType(
                iri=cls, name=name, label=self.label(cls), source=source, target=target,
                directed=bool(directed.toPython()) if isinstance(directed, Literal) else True,
                shortcut=shortcut if isinstance(shortcut, URIRef) else None,
                weight=weight if isinstance(weight, URIRef) else None,
                color=str(one(D4D.color) or "#888888"),
                dashes=bool(dashes.toPython()) if isinstance(dashes, Literal) else False,
                source_kinds=kinds(D4D.edgeSourceKind), target_kinds=kinds(D4D.edgeTargetKind),
                recommended=bool(recommended.toPython()) if isinstance(recommended, Literal) else False,
            )
        return out

    @cached_property
    def sectors(self) -> dict[str, Sector]:
        """Sector slug (its skos:notation) -> sector, in scheme order of the slugs."""
        out = {}
        for concept in self.graph.subjects(RDF.type, D4D.Sector):
            if not isinstance(concept, URIRef):
                continue
            slug = str(self.graph.value(concept, SKOS.notation) or str(concept).rsplit("/", 1)[-1])
            out[slug] = Sector(iri=concept, slug=slug, label=self.label(concept),
                               color=str(self.graph.value(concept, D4D.color) or "#888888"))
        return dict(sorted(out.items()))

    @cached_property
    def kinds(self) -> dict[str, Kind]:
        """Actor classes (Person, Organization and its kinds), keyed by local name."""
        out = {}
        for name, cls in self.classes.items():
            if self.is_subclass(cls, D4D.Agent) and cls != D4D.Agent and cls not in self.defined_classes:
                shape = self.graph.value(cls, D4D.shape)
                out[name] = Kind(iri=cls, name=name, label=self.label(cls), shape=str(shape or "dot"))
        return out

    @property
    def _where(self) -> str | None:
        return str(self.directory) if self.directory else None


def load_ontology(directory: str | Path) -> Ontology:
    """Parse every ontology Turtle file of ``directory`` (all ``*.ttl`` except the SHACL shapes).

    Raises
    ------
    OntologyError
        If the folder or ``d4d.ttl`` is missing or a file is not valid Turtle (with its line).

    Examples
    --------
    >>> onto = load_ontology("ontology")
    >>> onto.edge_types["Funding"].source
    rdflib.term.URIRef('https://w3id.org/d4d/ontology#funder')
    """
    directory = Path(directory)
    if not (directory / "d4d.ttl").is_file():
        raise OntologyError("no d4d.ttl here: is this the ontology folder?", path=directory)
    graph = Graph()
    for path in sorted(directory.glob("*.ttl")):
        if path.name in NON_ONTOLOGY_FILES:
            continue
        try:
            graph.parse(path, format="turtle")
        except (ParserError, SyntaxError, ValueError) as exc:
            raise OntologyError(f"not valid Turtle: {exc}", path=path) from exc
    return Ontology(graph=graph, directory=directory)


def datatype_of(spec: PropertySpec) -> URIRef:
    """The XSD datatype a plain value of this datatype property is stored with."""
    return spec.datatype or XSD.string
