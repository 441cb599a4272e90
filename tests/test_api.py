"""The public API: ``import d4d`` builds, opens, queries, analyses, maps and exports a graph."""

from __future__ import annotations

import decimal
from pathlib import Path

import pytest
import rdflib

import d4d
from d4d.errors import QueryError, StoreError

D4D = "https://w3id.org/d4d/ontology#"


def test_the_package_exposes_the_verbs() -> None:
    assert set(d4d.__all__) == {"Ecosystem", "Rows", "__version__", "build", "open"}


def test_build_returns_its_counts(project_copy: Path, tmp_path: Path) -> None:
    result = d4d.build(project_copy, out=tmp_path / "out", extras=False)
    assert result.counts["triples"] > 0
    assert (tmp_path / "out" / "ecosystem.ttl").is_file()


def test_rows_can_be_read_again_as_python_values(seed_build: Path) -> None:
    graph = d4d.open(seed_build)
    rows = graph.query("funding")
    assert isinstance(rows, d4d.Rows)
    first, second = list(rows), list(rows)
    assert first == second and len(rows) == len(first) >= 1
    assert rows.variables[:2] == ("funding", "funder")
    rockefeller = [row for row in rows if row["funderName"] == "The Rockefeller Foundation"]
    assert rockefeller[0]["amount"] == decimal.Decimal("400000")
    assert rockefeller[0]["recipient"] == "https://w3id.org/d4d/id/data-pop-alliance"


def test_query_text_parameters_ask_and_construct(seed_build: Path) -> None:
    graph = d4d.open(seed_build)
    count = graph.query(f"SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE {{ ?o a <{D4D}Organization> }}")
    assert isinstance(count, d4d.Rows) and isinstance(count[0]["n"], int) and count[0]["n"] > 0
    assert graph.query(f"ASK {{ ?o a <{D4D}Organization> }}") is True
    constructed = graph.query(f"CONSTRUCT {{ ?o a <{D4D}Organization> }} WHERE {{ ?o a <{D4D}Organization> }}")
    assert isinstance(constructed, rdflib.Graph) and len(constructed) == count[0]["n"]
    profile = graph.query("actor-profile", actor="https://w3id.org/d4d/id/datakind")
    assert isinstance(profile, d4d.Rows) and len(profile) > 0


def test_to_pandas_has_one_column_per_variable(seed_build: Path) -> None:
    pytest.importorskip("pandas")
    rows = d4d.open(seed_build).query("funding")
    assert isinstance(rows, d4d.Rows)
    frame = rows.to_pandas()
    assert list(frame.columns) == list(rows.variables) and len(frame) == len(rows)


def test_network_analyse_map_and_export(seed_build: Path, tmp_path: Path) -> None:
    graph = d4d.open(seed_build)
    G = graph.network()
    actors = graph.query(f"SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE {{ ?a a <{D4D}Agent> }}")
    assert isinstance(actors, d4d.Rows) and G.number_of_nodes() == actors[0]["n"]
    metrics = graph.analyse(seed=0, by_year=False)
    assert metrics["summary"]["actors"] == G.number_of_nodes()
    page = graph.map(tmp_path / "ego.html", actor="datakind", depth=1)
    assert page.is_file() and "DataKind" in page.read_text(encoding="utf-8")
    turtle = graph.export("turtle")
    assert isinstance(turtle, bytes) and len(rdflib.Graph().parse(data=turtle, format="turtle")) > 0
    written = graph.export("graphml", tmp_path / "net.graphml")
    assert isinstance(written, Path) and written.stat().st_size > 0


def test_errors_name_what_is_wrong(seed_build: Path, tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        d4d.open(tmp_path / "nothing-here")
    with pytest.raises(QueryError):
        d4d.open(seed_build).query("no-such-query")


def test_the_verbs_survive_the_import_of_every_module() -> None:
    # a submodule named like a verb would replace it on the package once imported
    import pkgutil
    for module in pkgutil.walk_packages(d4d.__path__, "d4d."):
        __import__(module.name)
    assert callable(d4d.build) and callable(d4d.open)
