"""The build's closing summary of the field: actors by source from the store, the rest from the measures."""

from __future__ import annotations

from typing import Any

from d4d.summary import actors_by_source, summarise


def test_actors_by_source_counts_distinct_cited_actors(seed_store: Any) -> None:
    # the seed ecosystem: 19 organisations and 7 people, each cited by the curated facts
    assert actors_by_source(seed_store) == {"curated": 26}


def test_summary_reads_the_measures(seed_store: Any) -> None:
    metrics = {"summary": {"actors": 26, "weak_components": 3, "largest_component_share": 0.5, "ei_index": 0.25,
                           "ei_expected": 0.5},
               "network": {"sectors": {"academia": {"label": "Academia and research", "actors": 5},
                                       "media": {"label": "Media", "actors": 7}},
                           "relationship_types": {"Funding": 1, "Founding": 4}}}
    s = summarise(seed_store, metrics)
    assert s.by_sector == {"Media": 7, "Academia and research": 5}
    assert s.ties == {"Founding": 4, "Funding": 1}
    assert (s.actors, s.components, s.ei_index, s.ei_expected) == (26, 3, 0.25, 0.5)
