"""Spreadsheet import: a hand-made sheet of actors and relationships with a column mapping; the CLI import."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from d4d.checks import EMAIL
from d4d.cli import main
from d4d.errors import SourceError
from d4d.imports import SourceSpec, import_source, resolver_for
from d4d.ontology import load_ontology
from d4d.vocab import D4D

ROOT = Path(__file__).resolve().parents[1]
SHEET = "https://w3id.org/d4d/id/sheet/team/"

ACTORS = [
    ["ID", "Name", "Kind", "Sectors", "Org ID", "Website", "About", "Evidence"],
    ["a1", "Alpha Data Trust", "Foundation", "philanthropy; technology", "GB-CHC-999001", "https://alpha.example.org",
     "Funds data work. Contact: alpha@example.org", "Alpha Data Trust funds data work"],
    ["a2", "Beta Lab", "ResearchCentre", "academia", "", "", "", ""],
    ["a3", "Gamma Network", "Alliance", "civil-society;nonsense", "", "not a url", "", ""],
    ["p1", "Dana Example", "Person", "", "", "", "", ""],
    ["x9", "Nobody", "Spaceship", "", "", "", "", ""],
]
TIES = [
    ["Type", "From", "To", "Partners", "Amount", "Currency", "Year", "Evidence"],
    ["Funding", "a1", "a2", "", "1,250,000.50", "usd", "2019", "Alpha gave Beta 1.25M in 2019"],
    ["Partnership", "", "", "a2; a3; data-pop-alliance", "", "", "2020-05", ""],
    ["Funding", "a1", "GB-COH-12345678", "", "300", "GBP", "2021-02-30", ""],
    ["Funding", "a1", "no-such-actor", "", "", "", "", ""],
    ["Membership", "p1", "a2", "", "", "", "", ""],
    ["Support", "a1", "", "", "", "", "", ""],
]
MAPPING = """
separator: ";"
actors:
  file: actors.csv
  key: ID
  type: Kind
  fields: {name: Name, sector: Sectors, identifier: Org ID, url: Website, description: About}
  quote: Evidence
relationships:
  file: ties.csv
  type: Type
  fields: {funder: From, recipient: To, partner: Partners, amount: Amount, currency: Currency, date: Year,
           member: From, organization: To, supporter: From, supported: To}
  quote: Evidence
"""


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    import csv

    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)


@pytest.fixture
def sheet(tmp_path: Path) -> Path:
    _write_csv(tmp_path / "actors.csv", ACTORS)
    _write_csv(tmp_path / "ties.csv", TIES)
    (tmp_path / "mapping.yaml").write_text(MAPPING, encoding="utf-8")
    return tmp_path


def _import(folder: Path, *, strict: bool = False, files: tuple[str, ...] = ("actors.csv", "ties.csv")):  # type: ignore[no-untyped-def]
    store = ox.Store()
    spec = SourceSpec("team", "spreadsheet", tuple(folder / f for f in files), options={"mapping": str(folder / "mapping.yaml")})
    return store, import_source(store, spec, resolver=resolver_for(ROOT, decisions=False), ontology=load_ontology(ROOT / "ontology"),
                                strict=strict)


def _values(store: ox.Store, node: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for q in store.quads_for_pattern(ox.NamedNode(node), None, None, None):
        out.setdefault(q.predicate.value, set()).add(q.object.value)
    return out


def test_actors_and_relationships_from_a_csv_sheet(sheet: Path) -> None:
    # Rows that cannot be read are skipped with their reason: the unknown kind of actor, the funding to
    # an unknown actor, the impossible date, and the support without the supported actor.
    store, report = _import(sheet)
    assert report.counts["actors"] == 3 and report.counts["people"] == 1 and report.skipped["actor"] == 1
    assert report.counts["relationships"] == 3 and report.skipped["relationship"] == 3
    reasons = {p.record: p.reason for p in report.problems}
    assert "Spaceship" in reasons["row 6"]
    assert "no-such-actor" in reasons["row 5"] and "2021-02-30" in reasons["row 4"] and "supported" in reasons["row 7"]

    alpha = _values(store, "https://w3id.org/d4d/id/org/gb-chc-999001")   # the org-id names the node
    assert alpha[str(D4D.name)] == {"Alpha Data Trust"}
    assert alpha[str(D4D.sector)] == {"https://w3id.org/d4d/sector/philanthropy", "https://w3id.org/d4d/sector/technology"}
    assert alpha[str(D4D.description)] == {"Funds data work. Contact: [e-mail removed]"}
    assert str(D4D.Foundation) in alpha["http://www.w3.org/1999/02/22-rdf-syntax-ns#type"]
    gamma = _values(store, SHEET + "a3")
    assert gamma[str(D4D.sector)] == {"https://w3id.org/d4d/sector/civil-society"} and str(D4D.url) not in gamma
    assert any("unknown sector 'nonsense'" in w for w in report.warning_counts)

    funding = _values(store, SHEET + "funding/2")
    assert funding[str(D4D.funder)] == {"https://w3id.org/d4d/id/org/gb-chc-999001"}
    assert funding[str(D4D.recipient)] == {SHEET + "a2"}
    assert (funding[str(D4D.amount)], funding[str(D4D.currency)], funding[str(D4D.date)]) == ({"1250000.5"}, {"USD"}, {"2019"})
    partnership = _values(store, SHEET + "partnership/3")
    assert partnership[str(D4D.partner)] == {SHEET + "a2", SHEET + "a3", "https://w3id.org/d4d/id/data-pop-alliance"}
    membership = _values(store, SHEET + "membership/6")
    assert membership[str(D4D.member)] == {SHEET + "p1"} and membership[str(D4D.organization)] == {SHEET + "a2"}
    quotes = {row["q"].value for row in store.query(
        f"SELECT ?q WHERE {{ <{SHEET}funding/2> <{D4D.citation}>/<{D4D.quote}> ?q }}", use_default_graph_as_union=True)}
    assert quotes == {"Alpha gave Beta 1.25M in 2019"}
    texts = " ".join(q.object.value for q in store.quads_for_pattern(None, None, None, None) if isinstance(q.object, ox.Literal))
    assert not EMAIL.search(texts)


def test_the_same_sheet_as_an_xlsx_workbook(sheet: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    actors = book.active
    actors.title = "Actors"
    for row in ACTORS:
        actors.append(row)
    ties = book.create_sheet("Ties")
    for row in TIES:
        ties.append(row)
    book.save(sheet / "team.xlsx")
    (sheet / "mapping.yaml").write_text(MAPPING.replace("file: actors.csv", "sheet: Actors")
                                        .replace("file: ties.csv", "sheet: Ties"), encoding="utf-8")
    store, report = _import(sheet, files=("team.xlsx",))
    assert report.counts["actors"] == 3 and report.counts["relationships"] == 3
    assert _values(store, SHEET + "funding/2")[str(D4D.amount)] == {"1250000.5"}


def test_strict_and_mapping_errors(sheet: Path) -> None:
    with pytest.raises(SourceError) as error:
        _import(sheet, strict=True)
    assert "row 6" in error.value.message
    (sheet / "mapping.yaml").write_text(MAPPING.replace("partner: Partners", "wingspan: Partners"), encoding="utf-8")
    with pytest.raises(SourceError) as error:
        _import(sheet)
    assert "'wingspan' is not a field of any type" in error.value.message
    with pytest.raises(SourceError):
        import_source(ox.Store(), SourceSpec("team", "spreadsheet", (sheet / "actors.csv",)))  # no mapping


def test_cli_import_into_a_store_and_to_a_file(sheet: Path, seed_project: Path, seed_build: Path,
                                              tmp_path: Path) -> None:
    build = tmp_path / "build"
    shutil.copytree(seed_build / "store", build / "store")
    runner = CliRunner()
    result = runner.invoke(main, ["import", "spreadsheet", str(sheet / "actors.csv"), str(sheet / "ties.csv"),
                                  "--name", "team", "--option", f"mapping={sheet / 'mapping.yaml'}",
                                  "--project", str(seed_project), "--store", str(build)])
    assert result.exit_code == 0, result.output
    assert "imported team (spreadsheet)" in result.output and "3 relationships" in result.output, result.output
    from d4d.store import open_store

    store = open_store(build)
    graph = ox.NamedNode("https://w3id.org/d4d/graph/source/team")
    assert store.contains_named_graph(graph)
    # The rules ran again: the imported funder is a d4d:Funder now, an inference, which the default
    # graph (what queries read) holds with the merge of the graphs, and no named graph does
    funder = ox.Triple(ox.NamedNode("https://w3id.org/d4d/id/org/gb-chc-999001"),
                       ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), ox.NamedNode(str(D4D.Funder)))
    default = {q.triple for q in store.quads_for_pattern(None, None, None, ox.DefaultGraph())}
    named = {q.triple for q in store.quads_for_pattern(None, None, None, None)
             if not isinstance(q.graph_name, ox.DefaultGraph)}
    assert named <= default
    assert funder in default and funder not in named
    assert not store.contains_named_graph(ox.NamedNode("https://w3id.org/d4d/graph/inferred"))
    del store
    out = tmp_path / "team.nq"
    result = runner.invoke(main, ["import", "spreadsheet", str(sheet / "actors.csv"), str(sheet / "ties.csv"),
                                  "--name", "team", "--option", f"mapping={sheet / 'mapping.yaml'}",
                                  "--project", str(ROOT), "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert "<https://w3id.org/d4d/graph/source/team>" in out.read_text(encoding="utf-8")
    result = runner.invoke(main, ["import", "iati", str(tmp_path / "missing.xml"), "-o", str(tmp_path / "x.nq")])
    assert result.exit_code == 1 and result.output.startswith("error: ") and "missing.xml" in result.output
    result = runner.invoke(main, ["import", "--declared", "nope", "--project", str(ROOT), "-o", "-"])
    assert result.exit_code == 1 and "no source named 'nope'" in result.output
