"""Fragmentation analytics: how fragmented the ecosystem is, who bridges it, which ties would
connect it.

The measures live in modules by area, like networkx's algorithms: :mod:`.connectivity`,
:mod:`.sectors`, :mod:`.communities`, :mod:`.brokerage`, :mod:`.resilience`,
:mod:`.recommend`, :mod:`.temporal`; :mod:`.rdf` writes them back as RDF.  Each takes the
network (a networkx graph following the network contract of ``d4d.network``, or a prepared
:class:`Network` to reuse one collapse) first and returns plain data keyed by actor IRI.
:func:`analyse` runs them all and assembles one JSON-serialisable dict.

How the multigraph is collapsed, and how actors without a sector (people) count, is explained in
:mod:`d4d.analyse._network`.  Small networks are computed exactly with networkx; above
``exact_max_nodes`` actors, betweenness, efficiency, resilience and recommendations are
estimated from seeded samples with a stated error.  The graph algorithms run in igraph
(``backend="auto"``, or ``"igraph"``) or in networkx (``backend="networkx"``, the slower
reference the tests check igraph against); communities come from networkx's Louvain up to 2,000
actors and igraph's Leiden above (see :mod:`.communities`).
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np

from d4d import __version__
from d4d.analyse._network import (
    LOUVAIN_MAX_NODES,
    Background,
    Backend,
    Network,
    Unassigned,
    as_network,
)
from d4d.analyse.brokerage import (
    ROLES,
    betweenness,
    betweenness_error,
    brokerage_roles,
    constraint,
    dominant_role,
    effective_size,
    roles_by_sector,
    two_paths,
)
from d4d.analyse.claims import evaluate_claims
from d4d.analyse.communities import communities, partition_agreement
from d4d.analyse.connectivity import (
    articulation_points,
    bridges,
    component_membership,
    component_summary,
    global_efficiency,
)
from d4d.analyse.recommend import recommend_ties
from d4d.analyse.resilience import (
    _pieces,
    cut_off,
    ei_change,
    pairs_disconnected,
    removal_impact,
)
from d4d.analyse.sectors import (
    conductance,
    crossing_by_type,
    ei_index,
    mixing_matrix,
    sector_assortativity,
    sector_modularity,
    sector_partition,
)
from d4d.analyse.temporal import graph_at, network_at, relationship_years, series, undated_counts

__all__ = [
    "LOUVAIN_MAX_NODES", "ROLES", "Network", "analyse", "articulation_points", "as_network",
    "betweenness", "betweenness_error", "bridges", "brokerage_roles", "communities",
    "component_membership", "component_summary", "conductance", "constraint", "crossing_by_type", "cut_off",
    "dominant_role", "effective_size", "ei_change", "ei_index", "global_efficiency", "graph_at",
    "mixing_matrix", "network_at", "pairs_disconnected", "partition_agreement",
    "recommend_ties", "relationship_years", "removal_impact", "roles_by_sector",
    "sector_assortativity", "sector_modularity", "sector_partition", "series", "undated_counts",
]

#: Version of the layout of the dict :func:`analyse` returns.
METRICS_VERSION = 2

#: A broker is in this top share of actors by betweenness (the top decile) ...
BROKER_TOP_SHARE = 0.1


def broker_labels(net: Network, btw: dict[str, float], paths: dict[str, int]
                  ) -> tuple[set[str], float | None]:
    """The actors labelled brokers, and the betweenness a broker needs.

    A broker is in the top decile of betweenness (at or above the value that ``ceil(n / 10)``
    actors reach, and above 0) *and* brokers at least one Gould--Fernandez two-path (a -> v -> b
    with no a -> b): it lies on others' shortest paths and passes something on between actors not
    tied to each other.

    >>> import networkx as nx
    >>> G = nx.DiGraph([(f"a{i}", "hub") for i in range(6)] + [("hub", f"b{i}") for i in range(6)])
    >>> net = Network(G)
    >>> from d4d.analyse.brokerage import betweenness, two_paths
    >>> sorted(broker_labels(net, betweenness(net), two_paths(net))[0])
    ['hub']
    """
    values = sorted((btw[iri] for iri in net.nodes), reverse=True)
    if not values:
        return set(), None
    threshold = values[max(int(np.ceil(len(values) * BROKER_TOP_SHARE)), 1) - 1]
    chosen = {iri for iri in net.nodes
              if btw[iri] > 0 and btw[iri] >= threshold and paths[iri] > 0}
    return chosen, threshold


def analyse(G: nx.Graph | Network, *, year: int | None = None, seed: int = 0,
            backend: Backend = "auto", samples: int = 256, exact_max_nodes: int = 1000,
            unassigned: Unassigned = "inherit", top: int = 20,
            recommendations: int = 10, resilience_top: int = 10, resilience_samples: int = 16,
            recommendation_samples: int = 64, by_year: bool = True, series_samples: int = 16,
            confidence: float = 0.95, workers: int = 2) -> dict[str, Any]:
    """Every fragmentation measure of ``G`` in one JSON-serialisable dict.

    Parameters
    ----------
    G:
        The ecosystem network (``d4d.network.project`` output, or any networkx graph with the
        contract's attributes), or a prepared :class:`Network`.
    year:
        Analyse the network as it stood in this year (:func:`~.temporal.graph_at`).
    seed:
        Seeds every random choice (samples, Louvain/Leiden); same seed, same output.
    backend:
        ``"networkx"``, ``"igraph"`` or ``"auto"`` (igraph, with Louvain from networkx for
        communities of up to 2,000 actors).
    samples:
        Sources for betweenness and efficiency when the network has more than
        ``exact_max_nodes`` actors (exact otherwise).
    unassigned:
        ``"inherit"`` (people take the sector most of their relationships lead to) or
        ``"exclude"`` (people are left out of sector measures).
    top:
        Length of the lists of top actors, communities and component sizes.
    recommendations, resilience_top:
        How many recommended ties and ranked critical actors to return.
    resilience_samples, recommendation_samples, series_samples:
        Sources for the efficiency estimates of those parts, on networks above
        ``exact_max_nodes`` actors.
    by_year:
        Include the by-year ``series``.
    confidence:
        Confidence level of the stated sampling error bounds.
    workers:
        With 2 or more, and a network above ``exact_max_nodes`` actors, sampled betweenness and
        global efficiency run in a forked child process while the other measures run here
        (same result).

    Returns
    -------
    dict
        With these keys (IRIs are actor IRIs; "ties" are collapsed undirected pairs):

        ``meta``
            ``metrics_version``, ``d4d_version``, ``year``, ``seed``, ``backend`` (the one used),
            ``exact`` (bool), ``samples`` (``None`` when exact), ``unassigned``, ``undated``
            (:func:`undated_counts`).
        ``summary``
            Headline figures: ``actors``, ``organizations``, ``people``, ``relationships``,
            ``ties``, ``density``, ``weak_components``, ``largest_component_share``,
            ``isolates``, ``articulation_points``, ``bridges`` (counts), ``efficiency``,
            ``ei_index``, ``ei_expected``, ``sector_modularity``, ``assortativity``,
            ``communities``, ``community_sector_nmi``, ``community_sector_ari``.
        ``network``
            ``relationship_types`` (``{type: count}``), ``relationship_labels``
            (``{type: label}``), ``sectors`` (``{slug: {"label",
            "color", "actors" (counting shares), "members" (actors with a share)}}`` in report
            order), ``kinds`` (``{kind: count}``).
        ``connectivity``
            :func:`component_summary` keys plus ``articulation_points`` (IRIs), ``bridges``
            (IRI pairs) and ``efficiency`` (:func:`global_efficiency` dict).
        ``sectors``
            ``mixing`` (:func:`mixing_matrix`), ``ei`` (:func:`ei_index` without ``by_actor``),
            ``assortativity``, ``modularity``, ``conductance`` (``{sector: value}``),
            ``by_relationship_type`` (:func:`crossing_by_type`).
        ``communities``
            :func:`communities` without ``membership``.
        ``brokerage``
            ``betweenness`` (:func:`betweenness_error` dict), ``roles`` (the role names),
            ``roles_by_sector`` (``{sector: {role: count}}``), ``broker_threshold`` (the
            betweenness of the top decile), ``top_brokers``: the ``top`` actors by betweenness,
            each ``{"actor", "label", "sectors", "betweenness", "constraint",
            "effective_size", "role", "brokerage", "broker", "two_paths", "in_arcs",
            "out_arcs"}``.
        ``resilience``
            :func:`removal_impact` list (critical actors, most critical first).
        ``recommendations``
            :func:`recommend_ties` list, best first, each with its ``reason``.
        ``actors``
            ``{iri: {"label", "kind", "actor_type", "own_sectors", "sectors" (shares counted in
            sector measures), "degree", "component", "community", "betweenness",
            "constraint", "effective_size", "ei", "brokerage" (role counts or ``None``),
            "role", "cut_off", "pairs_disconnected", "ei_change", "broker" (bool, see
            :func:`broker_labels`), "two_paths", "in_arcs", "out_arcs"}}``.
        ``brokers``
            The IRIs labelled brokers, by decreasing betweenness.
        ``series``
            :func:`series` dict (``None`` when ``by_year`` is false or no fact is dated).
        ``claims``
            :func:`~d4d.analyse.claims.evaluate_claims` list: the seed documents' claims, each
            with its measure and value.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("a", sector="academia"); G.add_node("b", sector="technology")
    >>> _ = G.add_edge("a", "b", type="Partnership", directed=False, year=2010)
    >>> m = analyse(G)
    >>> m["summary"]["ei_index"], m["summary"]["weak_components"]
    (1.0, 1)
    """
    net = as_network(G, unassigned=unassigned)
    if year is not None:
        net = network_at(net, year, unassigned=unassigned)
    n = net.n
    exact = n <= exact_max_nodes
    k = None if exact else samples
    used = net.resolve(backend)
    opts: dict[str, Any] = {"unassigned": unassigned}

    def shortest_paths() -> tuple[dict[str, float], dict[str, Any]]:
        # the two measures that run a breadth-first search from every (sampled) source
        return (betweenness(net, samples=k, seed=seed, backend=backend),
                global_efficiency(net, samples=k, seed=seed, backend=backend,
                                  confidence=confidence))

    if not exact and workers > 1 and used == "igraph":
        net.igraph  # build it once, before the fork, for both processes
        pending = Background(shortest_paths)
    else:
        pending = None

    comps = component_summary(net, backend=backend, top=top)
    points = articulation_points(net, backend=backend)
    cut_ties = bridges(net, backend=backend)
    membership = component_membership(net, backend=backend)

    mixing = mixing_matrix(net, **opts)
    ei = ei_index(net, **opts)
    assortativity = sector_assortativity(net, **opts)
    modularity = sector_modularity(net, **opts)
    cond = conductance(net, **opts)

    comm = communities(net, seed=seed, backend=backend, top=top, **opts)
    comm_membership = comm.pop("membership")

    cons = constraint(net, backend=backend)
    eff = effective_size(net, backend=backend)
    roles = brokerage_roles(net, backend=backend, **opts)
    role = dominant_role(roles)

    recs = recommend_ties(net, count=recommendations, samples=None if exact else
                          recommendation_samples, seed=seed, backend=backend, **opts)
    year_series = (series(net, samples=series_samples,
                          exact_max_nodes=exact_max_nodes, seed=seed, backend=backend, **opts)
                   if by_year and relationship_years(net) else None)
    cut_list, pairs_list = _pieces(net)
    cut, pairs = net.keyed(cut_list), net.keyed(pairs_list)
    ei_delta = ei_change(net, **opts)

    btw, efficiency = pending.result() if pending is not None else shortest_paths()
    critical = removal_impact(net, top=resilience_top, samples=None if exact else resilience_samples,
                              seed=seed, backend=backend, betweenness=btw, **opts)

    paths = two_paths(net, backend=backend)
    brokers, threshold = broker_labels(net, btw, paths)
    in_arcs = np.bincount(net.arc_dst, minlength=n).tolist()
    out_arcs = np.bincount(net.arc_src, minlength=n).tolist()
    degree = net.degree.tolist()
    actors: dict[str, dict[str, Any]] = {}
    for i, iri in enumerate(net.nodes):
        actors[iri] = {
            "label": net.label[i], "kind": net.kind[i], "actor_type": net.actor_type[i],
            "own_sectors": list(net.sectors[i]), "sectors": net.shares(i), "degree": degree[i],
            "component": membership[iri], "community": comm_membership[iri],
            "betweenness": btw[iri], "constraint": cons[iri], "effective_size": eff[iri],
            "ei": ei["by_actor"][iri], "brokerage": roles[iri], "role": role[iri],
            "cut_off": cut[iri], "pairs_disconnected": pairs[iri], "ei_change": ei_delta[iri],
            "broker": iri in brokers, "two_paths": paths[iri], "in_arcs": in_arcs[i],
            "out_arcs": out_arcs[i],
        }
    ranked = sorted(net.nodes, key=lambda iri: (-btw[iri], iri))[:top]
    top_brokers = [{
        "actor": iri, "label": actors[iri]["label"], "sectors": actors[iri]["sectors"],
        "betweenness": btw[iri], "constraint": cons[iri], "effective_size": eff[iri],
        "role": role[iri], "brokerage": roles[iri], "broker": iri in brokers,
        "two_paths": paths[iri], "in_arcs": actors[iri]["in_arcs"],
        "out_arcs": actors[iri]["out_arcs"],
    } for iri in ranked]

    ei_summary = {key: value for key, value in ei.items() if key != "by_actor"}
    sector_info = net.graph_attrs.get("sectors") or {}
    edge_info = net.graph_attrs.get("edge_types") or {}
    sizes = dict(zip(mixing["sectors"], mixing["actors"]))
    members = dict(zip(mixing["sectors"], mixing["members"]))
    sectors_meta = {
        slug: {"label": str((sector_info.get(slug) or {}).get("label") or slug),
               "color": (sector_info.get(slug) or {}).get("color"),
               "actors": sizes.get(slug, 0.0), "members": members.get(slug, 0)}
        for slug in net.groups
    }
    type_counts = np.bincount(net.rel_type, minlength=len(net.type_names)).tolist()
    kinds: dict[str, int] = {}
    for kind in net.kind:
        kinds[kind] = kinds.get(kind, 0) + 1
    people = sum(1 for t in net.actor_type if t == "Person")
    possible = n * (n - 1) / 2

    out: dict[str, Any] = {
        "meta": {
            "metrics_version": METRICS_VERSION, "d4d_version": __version__, "year": year,
            "seed": seed, "backend": used, "exact": exact, "samples": k,
            "unassigned": unassigned, "undated": undated_counts(net),
        },
        "summary": {
            "actors": n, "organizations": n - people, "people": people,
            "relationships": net.relationships, "ties": net.ties,
            "density": net.ties / possible if possible else 0.0,
            "weak_components": comps["weak_components"],
            "largest_component_share": comps["largest_component_share"],
            "isolates": len(comps["isolates"]), "articulation_points": len(points),
            "bridges": len(cut_ties), "efficiency": efficiency["value"],
            "ei_index": ei["value"], "ei_expected": ei["expected"],
            "sector_modularity": modularity, "assortativity": assortativity,
            "communities": comm["count"], "community_sector_nmi": comm["alignment"]["nmi"],
            "community_sector_ari": comm["alignment"]["ari"],
        },
        "network": {
            "relationship_types": {t: c for t, c in zip(net.type_names, type_counts) if c},
            "relationship_labels": {t: str((edge_info.get(t) or {}).get("label") or t)
                                    for t, c in zip(net.type_names, type_counts) if c},
            "sectors": sectors_meta,
            "kinds": dict(sorted(kinds.items())),
        },
        "connectivity": {**comps, "articulation_points": points, "bridges": cut_ties,
                         "efficiency": efficiency},
        "sectors": {"mixing": mixing, "ei": ei_summary, "assortativity": assortativity,
                    "modularity": modularity, "conductance": cond,
                    "by_relationship_type": crossing_by_type(net, **opts)},
        "communities": comm,
        "brokerage": {
            "betweenness": betweenness_error(n, k, confidence=confidence),
            "roles": list(ROLES),
            "roles_by_sector": roles_by_sector(net, roles, **opts),
            "top_brokers": top_brokers,
            "broker_threshold": threshold,
        },
        "resilience": critical,
        "recommendations": recs,
        "actors": actors,
        "brokers": sorted(brokers, key=lambda iri: (-btw[iri], iri)),
        "series": year_series,
    }
    out["claims"] = evaluate_claims(out)
    return out
