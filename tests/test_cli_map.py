"""`d4d map` with click's CliRunner, on the seed build (tests/conftest.py builds it once)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from d4d.cli import main

ID = "https://w3id.org/d4d/id/"


def page_data(path: Path) -> dict[str, object]:
    html = path.read_text(encoding="utf-8")
    return {name: json.loads(text) for name, text in
            re.findall(r'<script type="application/json" id="d4d-(\w+)">(.*?)</script>', html, re.S)}


@pytest.fixture()
def run(seed_build: Path, root: Path):  # type: ignore[no-untyped-def]
    def invoke(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, ["map", "--store", str(seed_build), "--ontology", str(root / "ontology"),
                                           *args])
        return result.exit_code, result.output
    return invoke


def test_help() -> None:
    result = CliRunner().invoke(main, ["map", "--help"])
    assert result.exit_code == 0
    for option in ("--actor", "--depth", "--query", "--size-by", "-o, --out"):
        assert option in result.output


def test_whole_ecosystem(run, seed_store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    actors = {str(row["a"].value) for row in seed_store.query(
        "PREFIX d4d: <https://w3id.org/d4d/ontology#> SELECT DISTINCT ?a WHERE { { ?a a d4d:Person } UNION "
        "{ ?a a d4d:Organization } }")}
    code, output = run("-o", str(tmp_path / "map.html"))
    assert code == 0, output
    data = page_data(tmp_path / "map.html")
    assert {d["iri"] for d in data["meta"]["details"]} == actors
    assert output.strip() == f"wrote {tmp_path / 'map.html'}: {len(actors)} actors, {len(data['edges'])} ties"


def test_ego_map(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, output = run("--actor", "data-pop-alliance", "--depth", "1", "-o", str(tmp_path / "ego.html"))
    assert code == 0, output
    data = page_data(tmp_path / "ego.html")
    meta = data["meta"]
    centre = meta["focus"]
    assert meta["details"][centre]["iri"] == ID + "data-pop-alliance"
    # Depth 1: every actor on the map is the centre or tied to it.
    tied = {e["from"] for e in data["edges"] if e["to"] == centre} | {e["to"] for e in data["edges"] if e["from"] == centre}
    assert {n["id"] for n in data["nodes"]} == tied | {centre}


def test_query_map_records_its_query(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, output = run("--query", "ego-network", "-p", "actor=d4did:datakind", "-o", str(tmp_path / "q.html"))
    assert code == 0, output
    meta = page_data(tmp_path / "q.html")["meta"]
    assert "CONSTRUCT" in meta["query"] and f"<{ID}datakind>" in meta["query"]
    assert ID + "datakind" in {d["iri"] for d in meta["details"]}
    assert meta["title"] == "Query: An actor's neighbourhood as RDF"


def test_page_to_stdout(run) -> None:  # type: ignore[no-untyped-def]
    code, output = run("--actor", "datakind", "-o", "-")
    assert code == 0 and output.startswith("<!DOCTYPE html>") and output.rstrip().endswith("</html>")


def test_errors_are_one_line(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, output = run("--query", "actors", "-o", str(tmp_path / "x.html"))
    assert code == 1 and output.strip() == "error: actors: a SELECT query has no graph to draw: use CONSTRUCT or DESCRIBE"
    code, output = run("--actor", "nobody", "-o", str(tmp_path / "x.html"))
    assert code == 1 and "no such actor" in output
    assert not (tmp_path / "x.html").exists()


def test_ties_carry_their_role_and_facts_their_basis(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, output = run("-o", str(tmp_path / "map.html"))
    assert code == 0, output
    data = page_data(tmp_path / "map.html")
    role = {e["fact"]: e["role"] for e in data["edges"]}
    # graph/relationships/memberships.yaml: role-director with roleTitle "director and co-founder";
    # role-leadership without a title; a founding has no role.
    assert role[ID + "membership-letouze-data-pop-director"] == "Director; \u201cdirector and co-founder\u201d"
    assert role[ID + "membership-letouze-data-pop-leadership"] == "Leadership"
    assert all(r is None for fact, r in role.items() if "/founding-" in fact)
    facts = data["meta"]["facts"]
    assert {f["basis"] for f in facts if f["fact"] == ID + "membership-letouze-data-pop-director"} == {"stated"}
