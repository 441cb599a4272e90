"""Namespaces of d4d: the ontology's terms as a closed rdflib namespace, and the IRI bases.

``D4D`` fails loudly on a misspelt term (``D4D.fundr`` raises AttributeError); a test checks that it
lists exactly the terms ``ontology/d4d.ttl`` defines.
"""

from __future__ import annotations

from rdflib import Namespace, URIRef
from rdflib.namespace import DefinedNamespace

BASE = "https://w3id.org/d4d/"
ID = Namespace(BASE + "id/")
"""Individuals (actors, facts, sources, citations): ``https://w3id.org/d4d/id/<slug>``."""
SECTOR = Namespace(BASE + "sector/")
"""Sectors of the SKOS scheme ``ontology/sectors.ttl``."""
GRAPH = Namespace(BASE + "graph/")
"""Named graphs of the store: ``graph/ontology``, ``graph/facts``, ``graph/source/<name>``, ``graph/metrics``
(and ``graph/inferred`` while a build reasons in memory; see :mod:`d4d.store`)."""
SCHEMA = Namespace("https://schema.org/")
ORG = Namespace("http://www.w3.org/ns/org#")
VANN = Namespace("http://purl.org/vocab/vann/")


class D4D(DefinedNamespace):
    """The d4d ontology (``https://w3id.org/d4d/ontology#``)."""

    _NS = Namespace("https://w3id.org/d4d/ontology#")
    _fail = True

    AcademicUnit: URIRef
    Activity: URIRef
    Agent: URIRef
    Alliance: URIRef
    Citation: URIRef
    Collaboration: URIRef
    Company: URIRef
    DataSharing: URIRef
    DigitalPublicGood: URIRef
    DigitalPublicGoodNominee: URIRef
    Fact: URIRef
    Foundation: URIRef
    Founder: URIRef
    Founding: URIRef
    FundedOrganization: URIRef
    Funder: URIRef
    Funding: URIRef
    GovernmentBody: URIRef
    Incubation: URIRef
    Incubator: URIRef
    InternationalOrganization: URIRef
    Investment: URIRef
    MediaCoverage: URIRef
    MediaOutlet: URIRef
    Membership: URIRef
    NGO: URIRef
    Organization: URIRef
    Participation: URIRef
    Partnership: URIRef
    Person: URIRef
    Place: URIRef
    Project: URIRef
    Relationship: URIRef
    ResearchCentre: URIRef
    Role: URIRef
    Sector: URIRef
    SourceDocument: URIRef
    SubOrganization: URIRef
    Support: URIRef
    ThinkTank: URIRef
    Transaction: URIRef
    University: URIRef
    alternateName: URIRef
    amount: URIRef
    author: URIRef
    basis: URIRef
    citation: URIRef
    citedSource: URIRef
    collaborator: URIRef
    color: URIRef
    count: URIRef
    countQualifier: URIRef
    countUnit: URIRef
    coveredBy: URIRef
    covers: URIRef
    currency: URIRef
    dashes: URIRef
    dataPartner: URIRef
    date: URIRef
    description: URIRef
    dissolutionDate: URIRef
    edgeDirected: URIRef
    edgeSource: URIRef
    edgeSourceKind: URIRef
    edgeTarget: URIRef
    edgeTargetKind: URIRef
    edgeWeight: URIRef
    endDate: URIRef
    factKey: URIRef
    foundedBy: URIRef
    foundedOrganization: URIRef
    founder: URIRef
    founderOf: URIRef
    foundingDate: URIRef
    fromSeeds: URIRef
    fundedBy: URIRef
    fundedByProject: URIRef
    funder: URIRef
    funds: URIRef
    hasMember: URIRef
    hasPart: URIRef
    hasParticipant: URIRef
    identifier: URIRef
    incubatedBy: URIRef
    incubatedOrganization: URIRef
    incubates: URIRef
    incubator: URIRef
    investee: URIRef
    investor: URIRef
    localFile: URIRef
    location: URIRef
    member: URIRef
    memberOf: URIRef
    name: URIRef
    note: URIRef
    onBehalfOf: URIRef
    organization: URIRef
    outlet: URIRef
    parent: URIRef
    parentProject: URIRef
    partOf: URIRef
    participant: URIRef
    participatesIn: URIRef
    participationRole: URIRef
    partner: URIRef
    partnerOf: URIRef
    performer: URIRef
    programme: URIRef
    project: URIRef
    provider: URIRef
    providerProject: URIRef
    publishedBy: URIRef
    publisherName: URIRef
    purpose: URIRef
    quote: URIRef
    receiver: URIRef
    receiverProject: URIRef
    recipient: URIRef
    recommendedTie: URIRef
    reportingOrganization: URIRef
    retrieved: URIRef
    role: URIRef
    roleTitle: URIRef
    sameAs: URIRef
    sector: URIRef
    sha256: URIRef
    shape: URIRef
    shortcut: URIRef
    source: URIRef
    startDate: URIRef
    subject: URIRef
    supported: URIRef
    supportedBy: URIRef
    supporter: URIRef
    supports: URIRef
    title: URIRef
    transactionType: URIRef
    unit: URIRef
    url: URIRef
    valueFormat: URIRef

    # fragmentation measures (ontology/metrics.ttl)
    BrokerageRole: URIRef
    MetricObservation: URIRef
    NetworkAnalysis: URIRef
    betweenness: URIRef
    brokerageRole: URIRef
    burtConstraint: URIRef
    cutOff: URIRef
    effectiveSize: URIRef
    eiIndex: URIRef
    expectedEiIndex: URIRef
    globalEfficiency: URIRef
    observedActor: URIRef
    observedSector: URIRef
    referenceYear: URIRef
    sectorAssortativity: URIRef
    sectorModularity: URIRef


PREFIXES: dict[str, str] = {
    "d4d": str(D4D),
    "d4did": str(ID),
    "sector": str(SECTOR),
    "schema": str(SCHEMA),
    "org": str(ORG),
    "foaf": "http://xmlns.com/foaf/0.1/",
    "prov": "http://www.w3.org/ns/prov#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "vann": str(VANN),
}
"""Prefixes written into every RDF output and offered to SPARQL queries."""
