"""The closing summary of a build of the field: actors by sector and by source, ties by type, components
and the E-I index, from the built store and the measures the analysis wrote (``metrics.json``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from d4d.store import query_options
from d4d.vocab import D4D, GRAPH


@dataclass
class FieldSummary:
    """What the field's graph holds, counted on distinct actors (a merged cluster is one actor)."""

    actors: int = 0
    by_sector: dict[str, int] = field(default_factory=dict)
    """Actors per sector label (an actor of two sectors counts in both)."""
    by_source: dict[str, int] = field(default_factory=dict)
    """Actors each source names: ``curated`` (graph/) or the source's name; an actor several name counts
    in each."""
    ties: dict[str, int] = field(default_factory=dict)
    """Relationships per type."""
    components: int = 0
    largest_component_share: float = 0.0
    ei_index: float | None = None
    ei_expected: float | None = None


def actors_by_source(store: ox.Store) -> dict[str, int]:
    """Distinct actors (``d4d:Agent``) cited by each named graph: ``curated`` and each source's name."""
    facts, prefix = str(GRAPH["facts"]), str(GRAPH) + "source/"
    rows = store.query(f"""
        SELECT ?g (COUNT(DISTINCT ?a) AS ?n) WHERE {{
          GRAPH ?g {{ ?a <{D4D.citation}> ?c }}
          ?a a <{D4D.Agent}> .
        }} GROUP BY ?g""", **query_options(store))
    out: dict[str, int] = {}
    for row in rows:  # type: ignore[union-attr]
        graph = row["g"].value
        name = "curated" if graph == facts else graph[len(prefix):] if graph.startswith(prefix) else graph
        out[name] = int(row["n"].value)
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))


def summarise(store: ox.Store, metrics: dict[str, Any]) -> FieldSummary:
    """The summary of a built graph and its measures (the dict :func:`d4d.analyse.analyse` returns)."""
    summary = metrics.get("summary", {})
    network = metrics.get("network", {})
    sectors = network.get("sectors", {})
    return FieldSummary(
        actors=int(summary.get("actors", 0)),
        by_sector={info.get("label", slug): int(info.get("actors", 0))
                   for slug, info in sorted(sectors.items(), key=lambda kv: (-kv[1].get("actors", 0), kv[0]))},
        by_source=actors_by_source(store),
        ties=dict(sorted(network.get("relationship_types", {}).items(), key=lambda kv: (-kv[1], kv[0]))),
        components=int(summary.get("weak_components", 0)),
        largest_component_share=float(summary.get("largest_component_share", 0.0)),
        ei_index=summary.get("ei_index"),
        ei_expected=summary.get("ei_expected"),
    )


def summarise_build(folder: str | Path) -> FieldSummary:
    """The summary of a build folder (its ``store`` and ``metrics.json``).

    Raises
    ------
    StoreError
        The folder holds no store.
    OSError, ValueError
        ``metrics.json`` cannot be read.
    """
    from d4d.store import open_store

    folder = Path(folder)
    metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    return summarise(open_store(folder / "store"), metrics)
