"""IATI import: counts against the real files (computed here with lxml), messy data, safe parsing."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from lxml import etree

from d4d.errors import SourceError
from d4d.checks import EMAIL
from d4d.imports import SourceSpec, import_source
from d4d.imports.iati import _parser_options, activity_iri
from d4d.vocab import D4D

IATI_FILES = [
    "hdx-scraper-iati-viz/covid/dportal.xml",
    "hdx-scraper-iati-viz/foodsecurity/dportal.xml",
    "IATI.cloud/example_203_file.xml",
    "IATI.cloud/MAEC_IATI_INDONESIA.xml",
    "IATI.cloud/5e87f792-3d59-4f06-afcf-a8efa8523553.xml",
    "IATI-Extra-Documentation/activity-standard-example-annotated.xml",
]
FUNDING_TYPES = {"1", "2", "3", "7", "11"}   # incoming funds, commitments, disbursement, reimbursement


def _has_party(el: etree._Element | None) -> bool:
    if el is None:
        return False
    names = [t.strip() for t in el.xpath("narrative/text()") if t.strip()]
    return bool((el.get("ref") or "").strip() or names)


def independent_counts(path: Path) -> dict[str, int]:
    """Counts of the file by XPath, written without the importer's code."""
    tree = etree.parse(str(path))
    fundings = 0
    for tx in tree.xpath("//iati-activity/transaction"):
        code = tx.xpath("string(transaction-type/@code)") or tx.xpath("string(transaction-type)").strip()
        if code in FUNDING_TYPES and _has_party(tx.find("provider-org")) and _has_party(tx.find("receiver-org")):
            fundings += 1
    return {
        "activities": int(tree.xpath("count(//iati-activity)")),
        "participations": int(tree.xpath("count(//iati-activity/participating-org)")),
        "transactions": int(tree.xpath("count(//iati-activity/transaction)")),
        "provider-orgs": int(tree.xpath("count(//iati-activity/transaction/provider-org)")),
        "receiver-orgs": int(tree.xpath("count(//iati-activity/transaction/receiver-org)")),
        "fundings": fundings,
    }


def count(store: ox.Store, graph: str, cls: str) -> int:
    rows = store.query(f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?x a <{D4D[cls]}> }} }}")
    return int(next(iter(rows))["n"].value)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", IATI_FILES)
def test_counts_equal_the_files(shared: Path, name: str, tmp_path: Path) -> None:
    path = shared / "data" / name
    expected = independent_counts(path)
    store = ox.Store()
    report = import_source(store, SourceSpec("iati-test", "iati", (path,)))
    assert report.problems == []
    for kind, n in expected.items():
        assert report.counts[kind] + report.skipped[kind] == n, kind
    assert count(store, report.graph, "Project") >= expected["activities"]  # related activities elsewhere too
    projects = store.query(f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ GRAPH <{report.graph}> "
                           "{ ?x a <https://w3id.org/d4d/ontology#Project> ; <http://purl.org/dc/terms/identifier> ?i } }")
    assert int(next(iter(projects))["n"].value) == expected["activities"]  # type: ignore[arg-type]
    assert count(store, report.graph, "Participation") == expected["participations"]
    assert count(store, report.graph, "Transaction") == expected["transactions"]
    assert count(store, report.graph, "Funding") == expected["fundings"]


def test_covid_counts_match_the_published_description(covid_import) -> None:  # type: ignore[no-untyped-def]
    # SOURCES.md: 401 activities, 1335 participating-org, 1033 transactions, 780 provider-org, 404 receiver-org.
    _, report = covid_import
    assert (report.counts["activities"], report.counts["participations"], report.counts["transactions"],
            report.counts["provider-orgs"], report.counts["receiver-orgs"]) == (401, 1335, 1033, 780, 404)
    assert report.problem_count == 0


def test_covid_imports_in_seconds(covid_import) -> None:  # type: ignore[no-untyped-def]
    _, report = covid_import
    assert report.seconds < 10   # about 1-2 s on the project's machine; generous for a loaded CI
    assert report.quads > 30_000


def test_funding_chains_point_at_the_activities_of_the_file(covid_import, shared: Path) -> None:  # type: ignore[no-untyped-def]
    store, report = covid_import
    tree = etree.parse(str(shared / "data/hdx-scraper-iati-viz/covid/dportal.xml"))
    ids = {i.strip() for i in tree.xpath("//iati-activity/iati-identifier/text()")}
    links = []
    for tx in tree.xpath("//iati-activity/transaction"):
        value = tx.xpath("string(provider-org/@provider-activity-id)").strip() or (tx.get("provider-activity-id") or "").strip()
        if value:
            links.append(value)
    rows = list(store.query(f"SELECT ?t ?p WHERE {{ GRAPH <{report.graph}> {{ ?t <{D4D.providerProject}> ?p ; "
                            f"a <{D4D.Transaction}> }} }}"))
    assert len(rows) == len(links)
    resolved = sum(1 for r in rows if r["p"].value in {activity_iri(i).value for i in ids})
    assert resolved == sum(1 for link in links if link in ids)
    assert resolved > 300


def test_messy_people_in_need_transactions_are_read_leniently(covid_import) -> None:  # type: ignore[no-untyped-def]
    # <transaction-type>1</transaction-type> and transaction-date iso-date="5000000" with the date as text.
    store, report = covid_import
    node = ox.NamedNode(activity_iri("CZ-ICO-25755277-ZMBZ000033").value + "/transaction/3")
    values = {q.predicate.value: q.object for q in store.quads_for_pattern(node, None, None, None)}
    assert values[str(D4D.transactionType)].value == "Incoming Funds"
    assert values[str(D4D.date)] == ox.Literal("2021-03-30", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#date"))
    assert str(D4D.amount) not in values   # its value element is empty: nothing invented
    assert report.warning_counts["transaction type read from the element text (no @code)"] == 21
    assert report.warning_counts["transaction date read from the element text (its iso-date is not a date)"] == 21


def test_language_tags_are_bcp47_lower_case(covid_import, shared: Path) -> None:  # type: ignore[no-untyped-def]
    store, _ = covid_import
    titles = [q.object for q in store.quads_for_pattern(activity_iri("XM-DAC-41114-PROJECT-00127336"),
                                                        ox.NamedNode("http://purl.org/dc/terms/title"), None, None)]
    assert titles == [ox.Literal("RRF COVID-19 Argentina", language="es")]
    languages = {q.object.language for q in store.quads_for_pattern(None, None, None, None)
                 if isinstance(q.object, ox.Literal) and q.object.language}
    assert languages and all(tag == tag.lower() for tag in languages)
    food = ox.Store()
    import_source(food, SourceSpec("food", "iati", (shared / "data/hdx-scraper-iati-viz/foodsecurity/dportal.xml",)))
    food_tags = {q.object.language for q in food.quads_for_pattern(None, None, None, None)
                 if isinstance(q.object, ox.Literal) and q.object.language}
    assert "en" in food_tags and "eng" not in food_tags and "ENG" not in food_tags


def test_multilingual_narratives_keep_their_languages(shared: Path) -> None:
    store = ox.Store()
    import_source(store, SourceSpec("example", "iati", (shared / "data/IATI-Extra-Documentation/"
                                                        "activity-standard-example-annotated.xml",)))
    titles = {(q.object.value, q.object.language) for q in store.quads_for_pattern(
        activity_iri("AA-AAA-123456789-ABC123"), ox.NamedNode("http://purl.org/dc/terms/title"), None, None)}
    assert titles == {("Activity title", "en"), ("Titre de l'activité", "fr"), ("Título de la actividad", "es")}


def test_refs_that_are_not_org_ids_make_local_nodes(covid_import) -> None:  # type: ignore[no-untyped-def]
    store, report = covid_import
    local = ox.NamedNode("https://w3id.org/d4d/id/iati/org/xm-dac-41114/undp-funding-windows")
    values = {(q.predicate.value, q.object.value) for q in store.quads_for_pattern(local, None, None, None)}
    assert ("http://purl.org/dc/terms/identifier", "12711") in values
    assert (str(D4D.name), "UNDP Funding Windows") in values
    assert not any(p == str(D4D.identifier) for p, _ in values)   # 12711 is not an org-id
    # An org-id is one node whatever the publisher: https://w3id.org/d4d/id/org/<org-id, lower-case>.
    fcdo = ox.NamedNode("https://w3id.org/d4d/id/org/gb-gov-1")
    assert ox.Quad(fcdo, ox.NamedNode(str(D4D.identifier)), ox.Literal("GB-GOV-1"), ox.NamedNode(report.graph)) in store
    assert report.warning_counts["ref is not an org-id (kept as a local identifier)"] > 0


def test_every_fact_cites_its_file_and_record(covid_import) -> None:  # type: ignore[no-untyped-def]
    store, report = covid_import
    graph = ox.NamedNode(report.graph)
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    documents = {q.subject for q in store.quads_for_pattern(None, rdf_type, ox.NamedNode(str(D4D.SourceDocument)), graph)}
    cited_by = {q.subject for q in store.quads_for_pattern(None, ox.NamedNode(str(D4D.citedSource)), None, graph)
                if q.object in documents}
    cited = {q.subject for q in store.quads_for_pattern(None, ox.NamedNode(str(D4D.citation)), None, graph)
             if q.object in cited_by}
    records = {q.subject for cls in ("Transaction", "Participation", "Organization")
               for q in store.quads_for_pattern(None, rdf_type, ox.NamedNode(str(D4D[cls])), graph)}
    projects = {q.subject for q in store.quads_for_pattern(None, rdf_type, ox.NamedNode(str(D4D.Project)), graph)}
    assert len(projects) == 401
    records |= projects
    assert len(records) == 401 + 1335 + 1033 + report.counts["organisations"] and records <= cited
    quote = store.query(f"""SELECT ?q WHERE {{ GRAPH <{report.graph}> {{
        <{activity_iri('CZ-ICO-25755277-ZMBZ000033').value}/transaction/3> <{D4D.citation}>/<{D4D.quote}> ?q }} }}""")
    assert next(iter(quote))["q"].value.startswith("iati-activity CZ-ICO-25755277-ZMBZ000033, transaction 3")


def test_no_contact_data_in_the_import(covid_import) -> None:  # type: ignore[no-untyped-def]
    store, _ = covid_import   # the file has contact-info with e-mail addresses such as registry.ar@undp.org
    texts = [q.object.value for q in store.quads_for_pattern(None, None, None, None) if isinstance(q.object, ox.Literal)]
    assert texts and not [t for t in texts if EMAIL.search(t)]


def test_transactions_between_named_organisations_are_fundings(covid_import) -> None:  # type: ignore[no-untyped-def]
    from d4d.network import project
    from d4d.ontology import load_ontology

    store, report = covid_import
    graph = project(store, load_ontology(Path(__file__).resolve().parents[1] / "ontology"), facts=False)
    fundings = [d for _, _, d in graph.edges(data=True) if d["type"] == "Funding"]
    assert len(fundings) == report.counts["fundings"]
    assert all(d["label"].split(":")[0] in {"Incoming Funds", "Outgoing Commitment", "Disbursement",
                                            "Incoming Commitment", "Reimbursement"} for d in fundings)
    assert any(d["amount"] and d["currency"] for d in fundings)


MESSY = """<?xml version="1.0"?>
<iati-activities version="2.03" xmlns:ns2="xml" generated-datetime="2021-01-01T00:00:00">
 <iati-activity xml:lang="EN" default-currency="usd">
  <iati-identifier>XX-TEST-1</iati-identifier>
  <reporting-org ref="XM-DAC-41114" type="40"><narrative>United Nations Development Programme</narrative></reporting-org>
  <title><narrative>Messy project</narrative><narrative xml:lang="FR">Projet</narrative></title>
  <participating-org ref="N/A" role="1" type="10"><narrative>Some Ministry</narrative></participating-org>
  <participating-org ref="GB" role="4"><narrative ns2:lang="en">British Someone</narrative></participating-org>
  <participating-org role="3"/>
  <contact-info><email>person@example.org</email><telephone>+44 20 7946 0000</telephone></contact-info>
  <transaction><transaction-type code="3"/><transaction-date iso-date="2020-01-02"/>
   <value currency="EUR" value-date="2020-01-02">1000</value>
   <provider-org ref="XM-DAC-41114"><narrative>UNDP</narrative></provider-org>
   <receiver-org ref="Education Cannot Wait" receiver-activity-id="XX-TEST-2"/></transaction>
  <transaction><transaction-type code="4"/><transaction-date iso-date="2020-02-03"/><value>12.5</value>
   <provider-org ref="XM-DAC-41114"/><receiver-org ref="GB-COH-123"/></transaction>
  <transaction><transaction-type code="99"/><value>5</value></transaction>
  <transaction><transaction-type code="1"/><transaction-date iso-date="bad"/><value value-date="2020-03-04">-7</value></transaction>
 </iati-activity>
 <iati-activity><reporting-org ref="XM-DAC-41114"/></iati-activity>
</iati-activities>
"""


def _messy(tmp_path: Path, strict: bool = False) -> tuple[ox.Store, object]:
    path = tmp_path / "messy.xml"
    path.write_text(MESSY, encoding="utf-8")
    store = ox.Store()
    return store, import_source(store, SourceSpec("messy", "iati", (path,)), strict=strict)


def test_messy_hand_made_file(tmp_path: Path) -> None:
    store, report = _messy(tmp_path)
    assert report.counts["activities"] == 1 and report.skipped["activity"] == 1          # no iati-identifier
    assert report.counts["participations"] == 2 and report.skipped["participating-org"] == 1  # neither ref nor name
    assert report.counts["transactions"] == 3 and report.skipped["transaction"] == 1     # unknown type 99
    assert report.counts["fundings"] == 1                                                   # the disbursement only
    reasons = {p.reason for p in report.problems}
    assert "no iati-identifier" in reasons and "unknown or missing transaction type '99'" in reasons
    project = activity_iri("XX-TEST-1").value
    tx1 = {q.predicate.value: q.object.value for q in store.quads_for_pattern(ox.NamedNode(project + "/transaction/1"), None, None, None)
           if q.predicate.value != "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"}
    assert tx1[str(D4D.amount)] == "1000" and tx1[str(D4D.currency)] == "EUR"
    assert tx1[str(D4D.recipient)] == "https://w3id.org/d4d/id/iati/org/xm-dac-41114/education-cannot-wait"
    assert tx1[str(D4D.receiverProject)] == activity_iri("XX-TEST-2").value
    tx2 = {q.predicate.value: q.object.value for q in store.quads_for_pattern(ox.NamedNode(project + "/transaction/2"), None, None, None)}
    assert tx2[str(D4D.amount)] == "12.5" and tx2[str(D4D.currency)] == "USD"   # default currency, upper-cased
    assert str(D4D.funder) not in tx2                                           # an expenditure is not a funding
    # Transactions are numbered by their position: the third (type 99) was skipped, this is the fourth.
    tx3 = {q.predicate.value: q.object.value for q in store.quads_for_pattern(ox.NamedNode(project + "/transaction/4"), None, None, None)}
    assert tx3[str(D4D.date)] == "2020-03-04" and str(D4D.amount) not in tx3   # negative value: no amount
    # N/A is no ref: a local node by name; "GB" is kept as the local identifier of a local node.
    ministry = ox.NamedNode("https://w3id.org/d4d/id/iati/org/xm-dac-41114/some-ministry")
    assert ox.Quad(ministry, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                   ox.NamedNode(str(D4D.GovernmentBody)), ox.NamedNode(report.graph)) in store
    british = ox.NamedNode("https://w3id.org/d4d/id/iati/org/xm-dac-41114/british-someone")
    assert ox.Literal("GB") in {q.object for q in store.quads_for_pattern(british, None, None, None)}
    titles = {(q.object.value, q.object.language) for q in store.quads_for_pattern(
        ox.NamedNode(project), ox.NamedNode("http://purl.org/dc/terms/title"), None, None)}
    assert titles == {("Messy project", "en"), ("Projet", "fr")}
    texts = " ".join(q.object.value for q in store.quads_for_pattern(None, None, None, None) if isinstance(q.object, ox.Literal))
    assert "person@example.org" not in texts and "7946" not in texts


def test_strict_stops_at_the_first_unreadable_record(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as error:
        _messy(tmp_path, strict=True)
    assert "messy.xml" in error.value.message and "participating-org 3" in error.value.message


def test_a_failed_import_leaves_no_half_source(tmp_path: Path) -> None:
    path = tmp_path / "messy.xml"
    path.write_text(MESSY, encoding="utf-8")
    store = ox.Store()
    import_source(store, SourceSpec("messy", "iati", (path,)))
    with pytest.raises(SourceError):
        import_source(store, SourceSpec("messy", "iati", (path,)), strict=True)
    assert not store.contains_named_graph(ox.NamedNode("https://w3id.org/d4d/graph/source/messy"))


def test_reimporting_replaces_the_source_and_leaves_others(tmp_path: Path, shared: Path) -> None:
    path = tmp_path / "messy.xml"
    path.write_text(MESSY, encoding="utf-8")
    store = ox.Store()
    other = import_source(store, SourceSpec("food", "iati", (shared / "data/hdx-scraper-iati-viz/foodsecurity/dportal.xml",)))
    first = import_source(store, SourceSpec("messy", "iati", (path,)))
    second = import_source(store, SourceSpec("messy", "iati", (path,)))
    assert first.quads == second.quads == sum(1 for _ in store.quads_for_pattern(None, None, None, ox.NamedNode(second.graph)))
    assert sum(1 for _ in store.quads_for_pattern(None, None, None, ox.NamedNode(other.graph))) == other.quads


BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<iati-activities version="2.03"><iati-activity><iati-identifier>XX-BOMB-1</iati-identifier>
<title><narrative>&lol9;</narrative></title></iati-activity></iati-activities>
"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE iati-activities [ <!ENTITY secret SYSTEM "file://{target}"> ]>
<iati-activities version="2.03"><iati-activity><iati-identifier>XX-XXE-1</iati-identifier>
<title><narrative>&secret;</narrative></title></iati-activity></iati-activities>
"""


def _literals(store: ox.Store) -> str:
    return " ".join(q.object.value for q in store.quads_for_pattern(None, None, None, None) if isinstance(q.object, ox.Literal))


def test_entity_expansion_bomb_is_refused_and_not_expanded(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xml"
    path.write_text(BOMB, encoding="utf-8")
    store = ox.Store()
    started = time.perf_counter()
    with pytest.raises(SourceError) as error:      # the file keeps nothing: the import fails, in one line
        import_source(store, SourceSpec("bomb", "iati", (path,)))
    assert time.perf_counter() - started < 5
    assert "nothing imported" in error.value.message and "\n" not in error.value.message
    assert len(store) == 0
    # The parser itself either refuses the amplification (libxml2's limit) or leaves the entities
    # unexpanded, even before the importer refuses the DTD.
    try:
        texts = [el.text or "" for _, el in etree.iterparse(str(path), events=("end",), tag="narrative",
                                                             **_parser_options())]
    except etree.XMLSyntaxError as error:
        assert "amplification" in str(error) or "entity" in str(error).lower()
    else:
        assert all(len(text) < 100 for text in texts)


def test_external_entity_is_refused_and_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    path = tmp_path / "xxe.xml"
    path.write_text(XXE.format(target=secret), encoding="utf-8")
    store = ox.Store()
    with pytest.raises(SourceError) as error:
        import_source(store, SourceSpec("xxe", "iati", (path,)))
    assert "nothing imported" in error.value.message and "TOP-SECRET" not in error.value.message
    assert len(store) == 0
    texts = [el.text or "" for _, el in etree.iterparse(str(path), events=("end",), tag="narrative", **_parser_options())]
    assert not any("TOP-SECRET" in text for text in texts)


def test_malformed_xml_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.xml"
    path.write_text("<iati-activities>\n<iati-activity><iati-identifier>A-1</iati-identifier></iati-activity>\n"
                    "<iati-activity><iati-identifier>A-2</iati-identifier>\n</iati-activities>\n", encoding="utf-8")
    store = ox.Store()
    report = import_source(store, SourceSpec("broken", "iati", (path,)))
    assert report.counts["activities"] == 1
    assert report.problems[0].record.startswith("line ") and "not well-formed" in report.problems[0].reason


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as error:
        import_source(ox.Store(), SourceSpec("none", "iati", (tmp_path / "nope.xml",)))
    assert "nope.xml" in error.value.message


def test_complete_activities_before_a_broken_one_are_kept_across_chunks(tmp_path: Path) -> None:
    # 2,000 activities span several of the parser's chunks; the broken one is last: all 2,000 are kept
    # whatever libxml2 does with the chunk that holds the error.
    path = tmp_path / "long.xml"
    body = "".join(f"<iati-activity><iati-identifier>A-{i}</iati-identifier></iati-activity>\n"
                   for i in range(2000))
    path.write_text(f"<iati-activities>\n{body}<iati-activity><iati-identifier>B</iati-identifier>\n"
                    "</iati-activities>\n", encoding="utf-8")
    report = import_source(ox.Store(), SourceSpec("long", "iati", (path,)))
    assert report.counts["activities"] == 2000
    assert report.problems[0].record == "line 2003"


def test_import_to_a_file_is_streamed_deterministic_and_whole(shared: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from d4d.cli import main

    source = shared / "data/hdx-scraper-iati-viz/foodsecurity/dportal.xml"
    outputs = {}
    for name in ("a.nq", "b.nq", "c.ttl"):
        result = CliRunner().invoke(main, ["import", "iati", str(source), "-o", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        outputs[name] = (tmp_path / name).read_bytes()
    assert outputs["a.nq"] == outputs["b.nq"]                       # the same input, the same bytes
    quads = ox.Store()
    quads.load(outputs["a.nq"], format=ox.RdfFormat.N_QUADS)
    triples = ox.Store()
    triples.load(outputs["c.ttl"], format=ox.RdfFormat.TURTLE)
    assert len(quads) == len(triples) > 0                           # one source: the same statements
    assert not list(tmp_path.glob(".*.tmp"))                        # nothing left beside the outputs


# -- the bound on one activity (d4d.limits.ACTIVITY_BYTES) ------------------------------------------

def _activity(ident: str, partners: int, *, nested: bool = False) -> str:
    """An activity with ``partners`` participating organisations (or, ``nested``, one organisation with
    ``partners`` names: the width one level further down)."""
    head = (f'<iati-activity default-currency="USD"><iati-identifier>{ident}</iati-identifier>'
            f'<reporting-org ref="XM-BOUND" type="10"><narrative>Bound Publisher</narrative></reporting-org>'
            f"<title><narrative>Activity {ident}</narrative></title>\n")
    if nested:
        names = "".join(f"<narrative>Name {i} of {ident}</narrative>\n" for i in range(partners))
        body = f'<participating-org ref="XM-BOUND-{ident}" role="4" type="22">{names}</participating-org>\n'
    else:
        body = "".join(f'<participating-org ref="XM-BOUND-{ident}-{i}" role="4" type="22">'
                       f"<narrative>Partner {i} of {ident}</narrative></participating-org>\n" for i in range(partners))
    return head + body + "</iati-activity>\n"


@pytest.fixture
def small_bound(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """ACTIVITY_BYTES of 4,096 fed 1,024 bytes at a time (the real bound is 4 MiB: the test stays small);
    yields the number of elements left in the skipped activity after each drop."""
    from d4d.imports import iati

    monkeypatch.setattr(iati, "ACTIVITY_BYTES", 4096)
    monkeypatch.setattr(iati, "CHUNK_BYTES", 1024)
    sizes: list[int] = []
    drop = iati._drop_completed

    def counted(node: Any) -> None:
        drop(node)
        if node.tag == "iati-activity":
            sizes.append(sum(1 for _ in node.iter()))

    monkeypatch.setattr(iati, "_drop_completed", counted)
    return sizes


@pytest.mark.parametrize("nested", [False, True], ids=["wide", "wide-inside-an-organisation"])
def test_an_activity_past_the_bound_is_skipped_and_its_neighbours_kept(tmp_path: Path, small_bound: list[int],
                                                                       nested: bool) -> None:
    path = tmp_path / "wide.xml"
    wide = _activity("XM-BOUND-WIDE", 2000, nested=nested)           # about 100 KB: 25 times the bound
    # lines: 1 the root, 2-5 the first activity (its head, 2 partners, its end tag), 6 the wide one
    path.write_text("<iati-activities>\n" + _activity("XM-BOUND-1", 2) + wide + _activity("XM-BOUND-3", 3)
                    + "</iati-activities>\n", encoding="utf-8")
    assert len(wide) > 20 * 4096
    store = ox.Store()
    report = import_source(store, SourceSpec("wide", "iati", (path,)))
    assert report.counts["activities"] == 2 and report.skipped == {"activity": 1}
    assert report.counts["participations"] == 5                       # 2 + 3: none of the wide one
    assert [str(p) for p in report.problems] == [
        (f"{path}, iati-activity XM-BOUND-WIDE at line 6: larger than the bound of 4,096 bytes "
         "(d4d.limits.ACTIVITY_BYTES); skipped")]
    identifiers = {q.object.value for q in store.quads_for_pattern(None, ox.NamedNode("http://purl.org/dc/terms/identifier"), None, None)}
    assert {"XM-BOUND-1", "XM-BOUND-3"} <= identifiers and "XM-BOUND-WIDE" not in identifiers
    assert "of XM-BOUND-WIDE" not in _literals(store)                 # nothing of it is imported
    # Once past the bound, what the parser holds of the activity is the path it is building: the
    # activity, the open organisation, its open name, and the last complete element of each level.
    assert len(small_bound) > 50 and max(small_bound) <= 5


def test_an_activity_within_the_bound_is_read(tmp_path: Path, small_bound: list[int]) -> None:
    path = tmp_path / "narrow.xml"
    narrow = _activity("XM-BOUND-1", 20)                             # about 1.9 KB
    path.write_text("<iati-activities>\n" + narrow * 1 + "</iati-activities>\n", encoding="utf-8")
    assert len(narrow) < 4096 - 1024
    report = import_source(ox.Store(), SourceSpec("narrow", "iati", (path,)))
    assert report.counts["activities"] == 1 and report.counts["participations"] == 20 and not report.problems
    assert small_bound == []


def test_an_activity_past_the_bound_without_an_identifier_is_named_by_its_line(tmp_path: Path,
                                                                              small_bound: list[int]) -> None:
    path = tmp_path / "anonymous.xml"
    wide = _activity("", 500).replace("<iati-identifier></iati-identifier>", "")
    path.write_text("<iati-activities>\n" + _activity("XM-BOUND-1", 1) + wide + "</iati-activities>\n",
                    encoding="utf-8")
    report = import_source(ox.Store(), SourceSpec("anonymous", "iati", (path,)))
    assert report.counts["activities"] == 1
    assert [(p.record, p.reason.split(";")[0]) for p in report.problems] == [
        ("iati-activity at line 5", "larger than the bound of 4,096 bytes (d4d.limits.ACTIVITY_BYTES)")]


def test_strict_stops_at_an_activity_past_the_bound(tmp_path: Path, small_bound: list[int]) -> None:
    path = tmp_path / "wide.xml"
    path.write_text("<iati-activities>\n" + _activity("XM-BOUND-WIDE", 500) + "</iati-activities>\n", encoding="utf-8")
    with pytest.raises(SourceError) as error:
        import_source(ox.Store(), SourceSpec("wide", "iati", (path,)), strict=True)
    assert "wide.xml" in error.value.message and "iati-activity XM-BOUND-WIDE at line 2" in error.value.message


def test_the_real_activities_are_far_below_the_bound(shared: Path) -> None:
    """The figure behind ACTIVITY_BYTES: the largest activity of the real files, measured on the bytes
    (from its start tag to its end tag), is 34,339 bytes, 1/122 of the bound."""
    from d4d.limits import ACTIVITY_BYTES

    sizes = {}
    for name in IATI_FILES:
        data = (shared / "data" / name).read_bytes()
        starts = [m.start() for m in re.finditer(rb"<iati-activity[\s>]", data)]
        ends = [m.end() for m in re.finditer(rb"</iati-activity>", data)]
        assert len(starts) == len(ends) == int(etree.parse(str(shared / "data" / name)).xpath("count(//iati-activity)"))
        sizes[name] = max(end - start for start, end in zip(starts, ends))
    assert max(sizes.values()) == sizes["hdx-scraper-iati-viz/foodsecurity/dportal.xml"] == 34_339
    assert max(sizes.values()) * 100 < ACTIVITY_BYTES


def test_elements_outside_the_activities_are_dropped_as_they_come(tmp_path: Path, small_bound: list[int],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from d4d.imports import iati

    path = tmp_path / "junk.xml"
    junk = "".join(f"<junk n='{i}'><narrative>junk {i}</narrative></junk>\n" for i in range(5000))   # 230 KB
    path.write_text("<iati-activities>\n" + _activity("XM-BOUND-1", 1) + junk + _activity("XM-BOUND-2", 1)
                    + "</iati-activities>\n", encoding="utf-8")
    siblings: list[int] = []
    read_activity = iati.read_activity

    def watched(ctx: Any, path: Path, document: ox.NamedNode, act: Any) -> None:
        siblings.append(len(act.getparent()))
        read_activity(ctx, path, document, act)

    monkeypatch.setattr(iati, "read_activity", watched)
    report = import_source(ox.Store(), SourceSpec("junk", "iati", (path,)))
    assert report.counts["activities"] == 2 and report.counts["participations"] == 2 and not report.problems
    # When an activity is read, the elements beside it are at most those of the chunk that holds its
    # end tag or its start tag (1,024 bytes: about 20 of them), never the 5,000 of the file.
    assert len(siblings) == 2 and max(siblings) <= 25
