"""Write the measures back as RDF, so analysts can query them in SPARQL next to the facts.

The terms are defined in ``ontology/metrics.ttl``.  One analysis run gives:

* ``<run>`` a ``d4d:NetworkAnalysis`` (a ``prov:Activity``) with its date and, in ``rdfs:comment``,
  how the measures were computed (exact or sampled, seed, error bounds);
* ``<run>/dataset`` a ``qb:DataSet`` whose ``qb:structure`` ``<run>/structure`` lists the
  dimensions and measures (one ``qb:ComponentSpecification`` each, ``<run>/structure/<term>``);
* one ``d4d:MetricObservation`` per network-level measure (``<run>/network/<term>``: E-I index,
  expected E-I, global efficiency, sector modularity and assortativity), each with
  ``schema:observationDate``, ``schema:measurementTechnique`` and, when sampled,
  ``schema:marginOfError``;
* one per sector for its E-I index (``<run>/sector/<slug>``, dimension ``d4d:observedSector``);
* one per actor (``<run>/actor/<slug>``, dimension ``d4d:observedActor``) with its betweenness,
  Burt's constraint, effective size, actors cut off and brokerage role (values that are undefined,
  such as the constraint of an isolate, are left out).

``<run>`` is ``https://w3id.org/d4d/id/analysis/all`` for the whole network and
``.../analysis/<year>`` for the network as it stood in a year; every observation carries
``prov:wasGeneratedBy <run>`` and ``qb:dataSet``; with a year, also ``d4d:referenceYear``.
Example query: the ten actors with the highest betweenness::

    SELECT ?actor ?b WHERE {
      ?o d4d:observedActor ?actor ; d4d:betweenness ?b .
    } ORDER BY DESC(?b) LIMIT 10
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from typing import Any

from rdflib import RDF, RDFS, XSD, Graph, Literal, Namespace, URIRef
from rdflib.namespace import PROV, SKOS

from d4d.vocab import D4D, ID, SCHEMA, SECTOR

QB = Namespace("http://purl.org/linked-data/cube#")
ROLE = Namespace("https://w3id.org/d4d/role/")
DCTERMS = Namespace("http://purl.org/dc/terms/")

_NETWORK_MEASURES = (
    ("ei_index", D4D.eiIndex, "Krackhardt and Stern's (1988) E-I index over ties (pairs of actors "
     "joined by any relationship) between actors with a sector"),
    ("ei_expected", D4D.expectedEiIndex, "E-I index of all possible pairs of the actors with a "
     "sector (Krackhardt and Stern's baseline for the sector sizes)"),
    ("efficiency", D4D.globalEfficiency, "Latora and Marchiori's (2001) global efficiency of the "
     "tie graph"),
    ("sector_modularity", D4D.sectorModularity, "Newman-Girvan modularity of the sector partition "
     "of the tie graph"),
    ("assortativity", D4D.sectorAssortativity, "Newman's (2003) attribute assortativity "
     "coefficient of the tie graph by sector"),
)

_ACTOR_MEASURES = (
    ("betweenness", D4D.betweenness, XSD.double),
    ("constraint", D4D.burtConstraint, XSD.double),
    ("effective_size", D4D.effectiveSize, XSD.double),
    ("cut_off", D4D.cutOff, XSD.integer),
)


def _today() -> dt.date:
    # Reproducible builds set SOURCE_DATE_EPOCH; otherwise the analysis is dated today (UTC).
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc).date()
    return dt.datetime.now(tz=dt.timezone.utc).date()


def _slug(iri: str) -> str:
    base = str(ID)
    rest = iri[len(base):] if iri.startswith(base) else ""
    if rest and all(c.isalnum() or c in "-_." for c in rest):
        return rest
    return "h" + hashlib.sha1(iri.encode("utf-8")).hexdigest()[:16]


def _people_rule(meta: dict[str, Any]) -> str:
    if meta.get("unassigned") == "exclude":
        return "actors without a sector (people) left out"
    return "actors without a sector (people) counted in the sector most of their relationships lead to"


def metrics_graph(metrics: dict[str, Any], *, when: dt.date | None = None,
                  actors: bool = True) -> Graph:
    """The measures of ``metrics`` (the dict :func:`d4d.analyse.analyse` returns) as RDF.

    Parameters
    ----------
    metrics:
        The output of :func:`d4d.analyse.analyse`.
    when:
        The observation date; by default the date of ``SOURCE_DATE_EPOCH`` if set, else today
        (UTC).  Pass a fixed date for byte-identical output.
    actors:
        Include the per-actor observations (one per actor; leave out for a compact graph).

    Returns
    -------
    rdflib.Graph
        The observations, their data set and structure, and the analysis activity, with the
        prefixes ``d4d``, ``qb``, ``schema``, ``prov``, ``role`` bound.

    Raises
    ------
    KeyError
        If ``metrics`` lacks a section :func:`~d4d.analyse.analyse` always writes.
    """
    meta, summary = metrics["meta"], metrics["summary"]
    day = Literal((when or _today()).isoformat(), datatype=XSD.date)
    year = meta.get("year")
    run = URIRef(f"{ID}analysis/{year if year is not None else 'all'}")
    dataset = URIRef(f"{run}/dataset")
    structure = URIRef(f"{run}/structure")
    g = Graph()
    for prefix, ns in (("d4d", str(D4D)), ("d4did", str(ID)), ("qb", str(QB)),
                       ("schema", str(SCHEMA)), ("prov", str(PROV)), ("role", str(ROLE)),
                       ("sector", str(SECTOR)), ("skos", str(SKOS)), ("dcterms", str(DCTERMS))):
        g.bind(prefix, ns)

    btw = metrics["brokerage"]["betweenness"]
    eff = metrics["connectivity"]["efficiency"]
    confidence = btw.get("confidence", 0.95)
    if btw["exact"]:
        how = "Betweenness and global efficiency are exact."
    else:
        how = (f"Betweenness is estimated from {btw['samples']} sampled source actors "
               f"(seed {meta['seed']}): within {btw['error_bound']:.4g} of the exact value for each "
               f"actor, and within {btw['error_bound_all']:.4g} for all actors at once, with "
               f"{confidence:.0%} confidence (Hoeffding). Global efficiency is estimated from "
               f"{eff['samples']} sampled sources.")
    scope = f"the network as it stood in {year}" if year is not None else "the whole network"
    g.add((run, RDF.type, D4D.NetworkAnalysis))
    g.add((run, RDFS.label, Literal(f"Fragmentation analysis of {scope}", lang="en")))
    g.add((run, RDFS.comment, Literal(
        f"{summary['actors']} actors, {summary['relationships']} relationships collapsed into "
        f"{summary['ties']} ties; {_people_rule(meta)}; backend {meta['backend']}. {how}",
        lang="en")))
    g.add((run, DCTERMS.date, day))

    g.add((dataset, RDF.type, QB.DataSet))
    g.add((dataset, RDFS.label, Literal(f"Fragmentation measures of {scope}", lang="en")))
    g.add((dataset, QB.structure, structure))
    g.add((dataset, PROV.wasGeneratedBy, run))
    g.add((structure, RDF.type, QB.DataStructureDefinition))
    dimensions = [D4D.observedActor, D4D.observedSector] + ([D4D.referenceYear] if year is not None else [])
    measures = [m for _, m, _ in _NETWORK_MEASURES] + [m for _, m, _ in _ACTOR_MEASURES] + [D4D.brokerageRole]
    for term, role in [(d, QB.dimension) for d in dimensions] + [(m, QB.measure) for m in measures]:
        spec = URIRef(f"{structure}/{str(term)[len(str(D4D)):]}")
        g.add((structure, QB.component, spec))
        g.add((spec, RDF.type, QB.ComponentSpecification))
        g.add((spec, role, term))

    def observation(iri: URIRef) -> URIRef:
        g.add((iri, RDF.type, D4D.MetricObservation))
        g.add((iri, QB.dataSet, dataset))
        g.add((iri, PROV.wasGeneratedBy, run))
        g.add((iri, SCHEMA.observationDate, day))
        if year is not None:
            g.add((iri, D4D.referenceYear, Literal(int(year), datatype=XSD.integer)))
        return iri

    people = _people_rule(meta)
    for key, term, method in _NETWORK_MEASURES:
        value = summary.get(key)
        if value is None:
            continue
        obs = observation(URIRef(f"{run}/network/{str(term)[len(str(D4D)):]}"))
        g.add((obs, term, Literal(float(value), datatype=XSD.double)))
        text = method
        if key.startswith("ei"):
            text += f"; {people}"
        if key == "efficiency":
            if eff["exact"]:
                text += ", exact"
            else:
                text += (f", mean over {eff['samples']} sampled source actors (seed "
                         f"{meta['seed']}); margin: {confidence:.0%} Hoeffding bound")
                g.add((obs, SCHEMA.marginOfError, Literal(float(eff["error_bound"]),
                                                          datatype=XSD.double)))
        g.add((obs, SCHEMA.measurementTechnique, Literal(text + ".", lang="en")))

    for slug, entry in metrics["sectors"]["ei"]["by_sector"].items():
        if entry["value"] is None:
            continue
        obs = observation(URIRef(f"{run}/sector/{slug}"))
        g.add((obs, D4D.observedSector, SECTOR[slug]))
        g.add((obs, D4D.eiIndex, Literal(float(entry["value"]), datatype=XSD.double)))
        if entry["expected"] is not None:
            g.add((obs, D4D.expectedEiIndex, Literal(float(entry["expected"]), datatype=XSD.double)))
        g.add((obs, SCHEMA.measurementTechnique, Literal(
            f"Krackhardt and Stern's (1988) group E-I index: the sector members' ties to other "
            f"sectors against the ties among them; {people}.", lang="en")))

    if actors:
        for iri, data in metrics["actors"].items():
            obs = observation(URIRef(f"{run}/actor/{_slug(iri)}"))
            g.add((obs, D4D.observedActor, URIRef(iri)))
            for key, term, datatype in _ACTOR_MEASURES:
                value = data.get(key)
                if value is not None:
                    g.add((obs, term, Literal(value, datatype=datatype)))
            if data.get("role"):
                g.add((obs, D4D.brokerageRole, ROLE[data["role"]]))
    return g
