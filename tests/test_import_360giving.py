"""360Giving import: grants, recipients and amounts against the real files (computed here with json),
schema validation, the flat CSV/XLSX form, and messy values."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest

from d4d.checks import EMAIL
from d4d.errors import SourceError
from d4d.imports import SourceSpec, import_source
from d4d.imports.giving360 import grant_iri
from d4d.vocab import D4D

FILES = ["360giving-dataquality/a003W000001B7PzQAK.json", "360giving-grantnav/a002400000nO46WAAS.json",
         "360giving-grantnav/grantnav-20180903134856.json"]
XSD_DATE = ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")


@pytest.fixture(scope="module")
def schema(shared: Path) -> Path:
    return shared / "data/360giving-standard/360-giving-schema.json"


def _sum_amounts(store: ox.Store, graph: str) -> Decimal:
    total = Decimal(0)
    for quad in store.quads_for_pattern(None, ox.NamedNode(str(D4D.amount)), None, ox.NamedNode(graph)):
        total += Decimal(quad.object.value)
    return total


@pytest.mark.parametrize("name", FILES)
def test_grants_recipients_and_amounts_equal_the_file(shared: Path, schema: Path, name: str) -> None:
    path = shared / "data" / name
    grants = json.loads(path.read_text(encoding="utf-8"))["grants"]
    recipients = {org["id"].strip().upper() for g in grants for org in g["recipientOrganization"]}
    funders = {org["id"].strip().upper() for g in grants for org in g["fundingOrganization"]}
    total = sum(Decimal(str(g["amountAwarded"])) for g in grants if Decimal(str(g["amountAwarded"])) > 0)
    store = ox.Store()
    report = import_source(store, SourceSpec("giving", "360giving", (path,), options={"schema": str(schema)}))
    assert report.problems == []                       # every grant of these files is valid
    assert report.counts["grants"] == len(grants)
    assert report.counts["recipients"] == len(recipients)
    assert report.counts["funders"] == len(funders)
    assert _sum_amounts(store, report.graph) == total
    rows = store.query(f"SELECT (COUNT(DISTINCT ?r) AS ?n) WHERE {{ GRAPH <{report.graph}> {{ ?g <{D4D.recipient}> ?r }} }}")
    assert int(next(iter(rows))["n"].value) == len(recipients)  # type: ignore[arg-type]


def test_published_description_of_the_andrew_lloyd_webber_file(shared: Path) -> None:
    # SOURCES.md: 475 grants to 288 distinct recipients totalling £21.76M.
    store = ox.Store()
    report = import_source(store, SourceSpec("alwf", "360giving",
                                             (shared / "data/360giving-dataquality/a003W000001B7PzQAK.json",)))
    assert (report.counts["grants"], report.counts["recipients"]) == (475, 288)
    assert round(_sum_amounts(store, report.graph) / Decimal(1_000_000), 2) == Decimal("21.76")
    funder = ox.NamedNode("https://w3id.org/d4d/id/org/gb-chc-1015648")
    kinds = {q.object.value for q in store.quads_for_pattern(funder, ox.NamedNode(str(D4D.sector)), None, None)}
    assert kinds == {"https://w3id.org/d4d/sector/philanthropy"}


def test_award_dates_in_both_formats_and_amounts_int_or_float(shared: Path) -> None:
    path = shared / "data/360giving-dataquality/a003W000001B7PzQAK.json"
    grants = json.loads(path.read_text(encoding="utf-8"))["grants"]
    full = next(g for g in grants if "T" in g["awardDate"])
    plain = next(g for g in grants if "T" not in g["awardDate"])
    store = ox.Store()
    import_source(store, SourceSpec("alwf", "360giving", (path,)))
    for grant in (full, plain):
        dates = [q.object for q in store.quads_for_pattern(grant_iri(grant["id"]), ox.NamedNode(str(D4D.date)), None, None)]
        assert dates == [ox.Literal(grant["awardDate"][:10], datatype=XSD_DATE)]
    ptc = shared / "data/360giving-grantnav/a002400000nO46WAAS.json"
    first = json.loads(ptc.read_text(encoding="utf-8"))["grants"][0]
    assert isinstance(first["amountAwarded"], float)
    other = ox.Store()
    import_source(other, SourceSpec("ptc", "360giving", (ptc,)))
    amount = next(iter(other.quads_for_pattern(grant_iri(first["id"]), ox.NamedNode(str(D4D.amount)), None, None)))
    assert Decimal(amount.object.value) == Decimal(str(first["amountAwarded"]))


def test_grant_facts_and_citation(shared: Path) -> None:
    store = ox.Store()
    import_source(store, SourceSpec("alwf", "360giving", (shared / "data/360giving-dataquality/a003W000001B7PzQAK.json",)))
    node = grant_iri("360G-ALWF-1978")
    values = {q.predicate.value: q.object.value for q in store.quads_for_pattern(node, None, None, None)}
    assert values[str(D4D.funder)] == "https://w3id.org/d4d/id/org/gb-chc-1015648"
    assert values[str(D4D.recipient)] == "https://w3id.org/d4d/id/org/gb-edu-133843"
    assert (values[str(D4D.amount)], values[str(D4D.currency)], values[str(D4D.date)]) == ("15000", "GBP", "2020-11-03")
    assert values[str(D4D.programme)] == "Music" and values[str(D4D.purpose)] == "Pathfinder Programme"
    quote = store.query(f"SELECT ?q WHERE {{ <{node.value}> <{D4D.citation}>/<{D4D.quote}> ?q }}",
                        use_default_graph_as_union=True)
    assert next(iter(quote))["q"].value.startswith('grant 360G-ALWF-1978: "Grant to Royal Northern College of Music"')


def _write(tmp_path: Path, grants: list[dict[str, object]], name: str = "grants.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"grants": grants}), encoding="utf-8")
    return path


GOOD = {"id": "360G-X-1", "title": "Grant to A", "description": "Write to boss@example.org or +44 20 7946 0000",
        "currency": "GBP", "amountAwarded": 100, "awardDate": "2019-05-06",
        "recipientOrganization": [{"id": "GB-CHC-1", "name": "A", "streetAddress": "1 Road", "postalCode": "AB1 2CD"}],
        "fundingOrganization": [{"id": "GB-CHC-2", "name": "F"}]}


def test_invalid_grants_are_reported_and_skipped(tmp_path: Path, schema: Path) -> None:
    bad_date = {**GOOD, "id": "360G-X-2", "awardDate": "2019-13-45"}
    no_funder = {k: v for k, v in GOOD.items() if k != "fundingOrganization"} | {"id": "360G-X-3"}
    person = {k: v for k, v in GOOD.items() if k != "recipientOrganization"} | {
        "id": "360G-X-4", "recipientIndividual": {"id": "360G-X-IND-1", "name": "Jane Doe"}}
    path = _write(tmp_path, [GOOD, bad_date, no_funder, person])
    for options in ({"schema": str(schema)}, {}):    # the JSON Schema, or the importer's own check
        store = ox.Store()
        report = import_source(store, SourceSpec("bad", "360giving", (path,), options=options))
        assert report.counts["grants"] == 1 and report.skipped["grant"] == 3
        records = {p.record: p.reason for p in report.problems}
        assert set(records) == {"grant 360G-X-2", "grant 360G-X-3", "grant 360G-X-4"}
        assert "individual" in records["grant 360G-X-4"]
        texts = " ".join(q.object.value for q in store.quads_for_pattern(None, None, None, None)
                         if isinstance(q.object, ox.Literal))
        assert "Jane Doe" not in texts and "AB1 2CD" not in texts and "1 Road" not in texts
        assert not EMAIL.search(texts) and "7946" not in texts
    with pytest.raises(SourceError) as error:
        import_source(ox.Store(), SourceSpec("bad", "360giving", (path,)), strict=True)
    assert "360G-X-2" in error.value.message


def test_a_bare_list_of_grants_and_broken_json(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text(json.dumps([GOOD]), encoding="utf-8")
    report = import_source(ox.Store(), SourceSpec("list", "360giving", (path,)))
    assert report.counts["grants"] == 1
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"grants": [GOOD, GOOD]})[:-30], encoding="utf-8")
    report = import_source(ox.Store(), SourceSpec("broken", "360giving", (broken,)))
    assert report.counts["grants"] == 1 and report.skipped["file"] == 1


TITLES = ["Identifier", "Title", "Description", "Currency", "Amount Awarded", "Award Date",
          "Recipient Org:Identifier", "Recipient Org:Name", "Funding Org:Identifier", "Funding Org:Name",
          "Grant Programme:Title"]


def _flat_rows(grants: list[dict[str, object]]) -> list[list[object]]:
    rows = []
    for g in grants:
        recipient = g["recipientOrganization"][0]  # type: ignore[index]
        funder = g["fundingOrganization"][0]  # type: ignore[index]
        programme = (g.get("grantProgramme") or [{}])[0]  # type: ignore[index]
        rows.append([g["id"], g["title"], g["description"], g["currency"], g["amountAwarded"], g["awardDate"],
                     recipient["id"], recipient["name"], funder["id"], funder["name"], programme.get("title", "")])
    return rows


def _graph_of(store: ox.Store, graph: str) -> set[tuple[str, str, str]]:
    skip = (str(D4D.citation), "https://w3id.org/d4d/ontology#citedSource")
    return {(q.subject.value, q.predicate.value, q.object.value) for q in store.quads_for_pattern(None, None, None, ox.NamedNode(graph))
            if "/citation/" not in q.subject.value and q.predicate.value not in skip and "/source/" not in q.subject.value}


def test_the_flat_csv_and_xlsx_forms_give_the_same_fundings(shared: Path, tmp_path: Path, schema: Path) -> None:
    source = shared / "data/360giving-dataquality/a003W000001B7PzQAK.json"
    grants = json.loads(source.read_text(encoding="utf-8"))["grants"][:40]
    json_store = ox.Store()
    json_report = import_source(json_store, SourceSpec("flat", "360giving", (_write(tmp_path, grants),),
                                                       options={"schema": str(schema)}))
    path = tmp_path / "grants.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(TITLES)
        writer.writerows(_flat_rows(grants))
    csv_store = ox.Store()
    csv_report = import_source(csv_store, SourceSpec("flat", "360giving", (path,), options={"schema": str(schema)}))
    assert csv_report.problems == [] and csv_report.counts["grants"] == 40
    assert _graph_of(csv_store, csv_report.graph) == _graph_of(json_store, json_report.graph)

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "grants"
    sheet.append(TITLES)
    for row in _flat_rows(grants):
        sheet.append(row)
    xlsx = tmp_path / "grants.xlsx"
    book.save(xlsx)
    xlsx_store = ox.Store()
    xlsx_report = import_source(xlsx_store, SourceSpec("flat", "360giving", (xlsx,), options={"schema": str(schema)}))
    assert xlsx_report.problems == [] and xlsx_report.counts["grants"] == 40
    assert _graph_of(xlsx_store, xlsx_report.graph) == _graph_of(json_store, json_report.graph)


def test_xlsx_date_cells_and_numbers_meet_the_schema(tmp_path: Path, schema: Path) -> None:
    # A spreadsheet writes dates as date cells and a charity number as a number: both are converted to
    # the standard's types (ISO text) before the schema sees them, so no grant is lost to them.
    from datetime import datetime

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(TITLES[:-1] + ["Planned Dates:Start Date", "Recipient Org:Charity Number", "Last modified"])
    sheet.append(["360G-X-1", "Grant", "A grant", "GBP", 1500, datetime(2019, 5, 6), "GB-CHC-1", "A", "GB-CHC-2",
                  "F", datetime(2019, 6, 1), 1015648, datetime(2020, 1, 2, 10, 30)])
    path = tmp_path / "dates.xlsx"
    book.save(path)
    store = ox.Store()
    report = import_source(store, SourceSpec("dates", "360giving", (path,), options={"schema": str(schema)}))
    assert report.counts["grants"] == 1 and report.problems == []
    # the time of day has no zone, which the standard's date-time needs: reported, the grant kept
    assert dict(report.warning_counts) == {"not valid by the 360Giving schema: dateModified (format)": 1}
    grant = grant_iri("360G-X-1")
    dates = {q.predicate.value.rsplit("#", 1)[-1]: q.object.value for q in store.quads_for_pattern(grant, None, None)
             if q.predicate.value.endswith(("#date", "#startDate"))}
    assert dates == {"date": "2019-05-06", "startDate": "2019-06-01"}
