"""The query layer: header format, binding safety, formats and errors on hand-made graphs; then
every catalogue query (queries/*.rq) on the seed build, with rows worked out by hand from the seed
documents (../shared/seeds).
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pyoxigraph as ox
import pytest

from d4d.errors import QueryError
from d4d.sparql import (CatalogueQuery, bind, declared_prefixes, load_catalogue, parse_query_text,
                        parse_value, query_form, resolve_params, resolve_query, run_query,
                        select_variables, serialize, service_calls, to_table)
from d4d.store import memory_store

EX = "http://example.org/"
XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"
TRICKY = 'He said "hi" } { \\ # <x>'
DATA = f"""
@prefix ex: <http://example.org/> .
ex:a ex:name "Alpha" ; ex:knows ex:b ; ex:age 30 .
ex:b ex:name "Beta"@en ; ex:knows ex:c ; ex:age 41 .
ex:c ex:name {json.dumps(TRICKY)} ; ex:age 52 .
"""

BY_NAME = """# title: Who is called NAME
# description: Looks an actor up by exact name.
#   Second line of the description.
# param: name string "Alpha" The exact name
# returns: ?who ?name
PREFIX ex: <http://example.org/>
SELECT ?who ?name WHERE {
  ?who ex:name ?name .
}
"""

OLDER = """# title: Older than
# description: People older than a bound, optionally who know someone.
# param: min_age integer 40 Lower bound (exclusive)
# param: friend iri - Only people who know this one (unbound: anyone)
# returns: ?who ?age
PREFIX ex: <http://example.org/>
SELECT ?who ?age WHERE {
  ?who ex:age ?age .
  OPTIONAL { ?who ex:knows ?known }
  FILTER(?age > ?min_age)
  FILTER(!BOUND(?friend) || ?known = ?friend)
} ORDER BY ?who
"""


@pytest.fixture()
def store() -> ox.Store:
    return memory_store([(DATA.encode(), None)], format="turtle")


# -- the header -----------------------------------------------------------------------------

def test_header_is_parsed() -> None:
    query = parse_query_text(BY_NAME, name="by-name")
    assert query.title == "Who is called NAME"
    assert query.description == "Looks an actor up by exact name. Second line of the description."
    assert [(p.name, p.type, p.default, p.description) for p in query.params] == [
        ("name", "string", '"Alpha"', "The exact name")]
    assert query.returns == ("who", "name")
    assert query.form == "SELECT"


@pytest.mark.parametrize("header, message", [
    ("# param: name colour red The name", "unknown parameter type 'colour'"),
    ("# param: name", "NAME TYPE DEFAULT DESCRIPTION"),
    ("# param: nobody string - Not in the query", "parameter 'nobody' is not used"),
    ("# param: name integer abc A bad default", "'abc' is not a valid integer"),
    ("# returns: ?who ?nome", "'returns' says who nome but the query selects who name"),
])
def test_header_errors_name_file_and_line(tmp_path: Path, header: str, message: str) -> None:
    path = tmp_path / "bad.rq"
    path.write_text(f"# title: Bad\n{header}\nSELECT ?who ?name WHERE {{ ?who <{EX}name> ?name }}\n")
    with pytest.raises(QueryError, match=message) as caught:
        load_catalogue(tmp_path)
    assert caught.value.path == str(path)


def test_catalogue_requires_a_title(tmp_path: Path) -> None:
    (tmp_path / "untitled.rq").write_text("SELECT * WHERE { ?s ?p ?o }\n")
    with pytest.raises(QueryError, match="no '# title:' line"):
        load_catalogue(tmp_path)


def test_catalogue_reads_files_by_stem(tmp_path: Path) -> None:
    (tmp_path / "b-older.rq").write_text(OLDER)
    (tmp_path / "a-by-name.rq").write_text(BY_NAME)
    (tmp_path / "notes.txt").write_text("not a query")
    catalogue = load_catalogue(tmp_path)
    assert list(catalogue) == ["a-by-name", "b-older"]
    assert resolve_query("b-older", catalogue=catalogue).title == "Older than"
    assert resolve_query(str(tmp_path / "a-by-name.rq"), catalogue=catalogue).name == "a-by-name"
    with pytest.raises(QueryError, match="no catalogue query or file called 'nope'"):
        resolve_query("nope", catalogue=catalogue)


def test_lexer_helpers() -> None:
    text = ('PREFIX ex: <http://example.org/> PREFIX : <http://e/>\n'
            '# SERVICE <http://comment/> { }\n'
            'SELECT ?service (COUNT(*) AS ?n) ("SERVICE {" AS ?label) WHERE { ?service ex:p "}" } GROUP BY ?service')
    assert query_form(text) == "SELECT"
    assert declared_prefixes(text) == {"ex": EX, "": "http://e/"}
    assert service_calls(text) == []
    assert select_variables(text) == ("service", "n", "label")
    assert service_calls("SELECT * { SERVICE SILENT ?endpoint { ?s ?p ?o } }") == ["?endpoint"]
    assert query_form("LOAD <http://example.org/data.ttl>") == "UPDATE"
    assert query_form("with <http://g> delete { ?s ?p ?o } where { ?s ?p ?o }") == "UPDATE"
    assert query_form("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }") == "CONSTRUCT"


# -- parameter values and binding ------------------------------------------------------------

def test_values_become_typed_terms() -> None:
    prefixes = {"ex": EX}
    assert parse_value("ex:a", type="iri", prefixes=prefixes) == ox.NamedNode(EX + "a")
    assert parse_value("<http://example.org/a>", type="iri") == ox.NamedNode(EX + "a")
    assert parse_value("http://example.org/a", type="iri") == ox.NamedNode(EX + "a")
    assert parse_value("2015", type="integer").datatype.value.endswith("#integer")  # type: ignore[union-attr]
    assert parse_value("1e3", type="decimal") == ox.Literal("1E+3", datatype=ox.NamedNode(
        "http://www.w3.org/2001/XMLSchema#decimal"))
    assert parse_value("2015-06-01", type="date").value == "2015-06-01"  # type: ignore[union-attr]
    assert parse_value("TRUE", type="boolean").value == "true"  # type: ignore[union-attr]
    assert parse_value('"42"', type="string") == ox.Literal("42")
    assert parse_value("ex:a", prefixes=prefixes) == ox.NamedNode(EX + "a")  # type term guesses
    assert parse_value("42") == ox.Literal("42", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))
    assert parse_value("hello world") == ox.Literal("hello world")
    for value, kind in [("x", "integer"), ("nan", "decimal"), ("2015-13-01", "date"), ("maybe", "boolean"),
                        ("not an iri", "iri"), ("<http://e/a>b>", "iri"), ("undeclared:x", "iri")]:
        with pytest.raises(QueryError, match=f"not a valid {kind}"):
            parse_value(value, type=kind, prefixes=prefixes)


def test_bind_writes_values_after_the_where_brace() -> None:
    text = "CONSTRUCT { ?s ?p ?o } WHERE {\n  ?s ?p ?o }"
    bound = bind(text, {"s": ox.NamedNode(EX + "a"), "o": ox.Literal('a "b" }')})
    assert bound == ('CONSTRUCT { ?s ?p ?o } WHERE { VALUES (?o ?s) { ("a \\"b\\" }" <http://example.org/a>) }\n'
                     "  ?s ?p ?o }")
    assert bind("CONSTRUCT WHERE { ?s ?p ?o }", {"s": ox.NamedNode(EX + "a")}).startswith(
        "CONSTRUCT WHERE { VALUES (?s)")
    with pytest.raises(QueryError, match="only IRIs and literals"):
        bind(text, {"s": ox.BlankNode()})


def test_bind_reaches_groups_evaluated_on_their_own(store: ox.Store) -> None:
    # A sub-SELECT and a UNION branch do not see the outer solution: the value is bound inside
    # them too, so a FILTER there reads it (as if the constant were written in the query).
    text = f"""PREFIX ex: <{EX}>
    SELECT ?who WHERE {{
      {{ SELECT ?who WHERE {{ ?who ex:age ?age FILTER(?age > ?min) }} }}
      UNION
      {{ ?who ex:name ?n FILTER(?who = ?pick) }}
    }} ORDER BY ?who"""
    rows = run_query(text, store=store, params={"min": "45", "pick": f"<{EX}a>"}).values()
    assert [row["who"] for row in rows] == [EX + "a", EX + "c"]
    bound = bind(text, {"min": ox.Literal("45", datatype=ox.NamedNode(XSD_INTEGER))})
    assert bound.count("VALUES (?min)") == 2  # the outermost group and the sub-SELECT's WHERE
    optional = bind("SELECT * WHERE { ?s ?p ?o OPTIONAL { ?o ?q ?s FILTER EXISTS { ?s ?r ?o } } }",
                    {"s": ox.NamedNode(EX + "a")})
    assert optional.count("VALUES") == 1  # OPTIONAL and EXISTS are evaluated with the outer value


def test_syntax_error_after_several_bound_groups(store: ox.Store) -> None:
    text = "SELECT * WHERE { { ?x ?p ?o } UNION { ?x ?q ?o } FILTER(?o = ) }"
    with pytest.raises(QueryError) as plain:
        run_query(text, store=store)
    with pytest.raises(QueryError) as bound:
        run_query(text, store=store, params={"x": f"<{EX}a>"})
    assert plain.value.reason == bound.value.reason
    assert "line 1, column" in bound.value.reason


@pytest.mark.parametrize("hostile", [
    TRICKY,
    '" } UNION { ?who ?p ?name } #',
    "\\\" } ?who ?p ?name {",
    '"""',
    "'''} } }",
    "\n} # \r\n",
    "\\u0022 } UNION { ?who ?p ?name }",
])
def test_hostile_values_stay_one_literal(store: ox.Store, hostile: str) -> None:
    query = parse_query_text(BY_NAME)
    result = run_query(query, store=store, params={"name": hostile})
    rows = result.values()
    # Only an exact match can come back; no value can widen the query to all names.
    expected = [{"who": EX + "c", "name": TRICKY}] if hostile == TRICKY else []
    assert rows == expected


def test_hostile_iri_is_refused(store: ox.Store) -> None:
    query = parse_query_text(OLDER)
    for hostile in ["http://example.org/a> } UNION { ?who ?p ?age } #", "http://e/a b", "<http://e/{x}>"]:
        with pytest.raises(QueryError, match="not a valid iri"):
            run_query(query, store=store, params={"friend": hostile})


def test_params_defaults_and_unbound(store: ox.Store) -> None:
    query = parse_query_text(OLDER)
    assert [row["who"] for row in run_query(query, store=store).values()] == [EX + "b", EX + "c"]
    assert [row["who"] for row in run_query(query, store=store, params={"min_age": "20"}).values()] == [
        EX + "a", EX + "b", EX + "c"]
    assert [row["who"] for row in run_query(query, store=store, params={"min_age": "20", "friend": "ex:c"})
            .values()] == [EX + "b"]
    with pytest.raises(QueryError, match="has no parameter 'max_age'"):
        resolve_params(query, {"max_age": "3"})


def test_ad_hoc_query_takes_any_param(store: ox.Store) -> None:
    text = f"SELECT ?age WHERE {{ ?who <{EX}age> ?age }}"
    assert run_query(text, store=store, params={"who": f"<{EX}b>"}).values() == [{"age": "41"}]
    with pytest.raises(QueryError, match="not a SPARQL variable name"):
        run_query(text, store=store, params={"who) { } #": "1"})


# -- formats ---------------------------------------------------------------------------------

def test_select_formats(store: ox.Store) -> None:
    query = parse_query_text(OLDER)

    data = json.loads(serialize(run_query(query, store=store), "json") or b"")
    assert data["head"]["vars"] == ["who", "age"]
    assert [b["who"]["value"] for b in data["results"]["bindings"]] == [EX + "b", EX + "c"]
    assert data["results"]["bindings"][0]["age"] == {
        "type": "literal", "value": "41", "datatype": "http://www.w3.org/2001/XMLSchema#integer"}

    rows = list(csv.reader(io.StringIO((serialize(run_query(query, store=store), "csv") or b"").decode())))
    assert rows == [["who", "age"], [EX + "b", "41"], [EX + "c", "52"]]

    tsv = (serialize(run_query(query, store=store), "tsv") or b"").decode().splitlines()
    assert tsv == ["?who\t?age", f"<{EX}b>\t41", f"<{EX}c>\t52"]

    root = ET.fromstring(serialize(run_query(query, store=store), "xml") or b"")
    ns = {"r": "http://www.w3.org/2005/sparql-results#"}
    assert [v.get("name") for v in root.findall("r:head/r:variable", ns)] == ["who", "age"]
    assert [u.text for u in root.findall("r:results/r:result/r:binding[@name='who']/r:uri", ns)] == [
        EX + "b", EX + "c"]

    assert to_table(run_query(query, store=store)) == (["who", "age"], [["ex:b", "41"], ["ex:c", "52"]])


def test_ask_and_construct_formats(store: ox.Store) -> None:
    ask = f"ASK {{ <{EX}a> <{EX}knows> <{EX}b> }}"
    assert json.loads(serialize(run_query(ask, store=store), "json") or b"")["boolean"] is True
    assert to_table(run_query(ask, store=store)) == (["ask"], [["true"]])
    construct = f"PREFIX ex: <{EX}> CONSTRUCT {{ ?b ex:knownBy ?a }} WHERE {{ ?a ex:knows ?b }}"
    turtle = serialize(run_query(construct, store=store), "turtle") or b""
    assert "@prefix ex: <http://example.org/>" in turtle.decode()
    graph = list(ox.parse(turtle, ox.RdfFormat.TURTLE))
    assert sorted((q.subject.value, q.object.value) for q in graph) == [(EX + "b", EX + "a"), (EX + "c", EX + "b")]
    ntriples = (serialize(run_query(construct, store=store), "ntriples") or b"").decode().splitlines()
    assert sorted(ntriples) == [f"<{EX}b> <{EX}knownBy> <{EX}a> .", f"<{EX}c> <{EX}knownBy> <{EX}b> ."]
    header, rows = to_table(run_query(construct, store=store))
    assert header == ["subject", "predicate", "object"] and sorted(rows)[0] == ["ex:b", "ex:knownBy", "ex:a"]
    describe = run_query(f"DESCRIBE <{EX}a>", store=store)
    assert describe.form == "DESCRIBE" and len(describe.triples or []) == 3


def test_format_must_fit_the_form(store: ox.Store) -> None:
    with pytest.raises(QueryError, match="written as json, xml, csv, tsv or table, not 'turtle'"):
        serialize(run_query(OLDER, store=store), "turtle")
    with pytest.raises(QueryError, match="is RDF: write it as turtle"):
        serialize(run_query(f"CONSTRUCT WHERE {{ ?s <{EX}age> ?o }}", store=store), "csv")


# -- errors ----------------------------------------------------------------------------------

def test_syntax_error_has_line_and_column(store: ox.Store) -> None:
    text = "PREFIX ex: <http://example.org/>\nSELECT ?who WHERE {\n  ?who ex:name ?name .\n  FILTER(?name = ) }"
    with pytest.raises(QueryError, match=r"syntax error at line 4, column \d+"):
        run_query(text, store=store)


def test_syntax_error_position_ignores_the_bound_values(store: ox.Store) -> None:
    # The VALUES block lands on line 1 after "{"; the error column must be the one of the text given.
    text = "SELECT ?who WHERE { ?who <http://example.org/name> ?name FILTER(?name = ) }"
    with pytest.raises(QueryError) as plain:
        run_query(text, store=store)
    with pytest.raises(QueryError) as bound:
        run_query(text, store=store, params={"name": "a much longer value than nothing at all"})
    assert plain.value.reason == bound.value.reason


def test_updates_are_not_run(store: ox.Store) -> None:
    with pytest.raises(QueryError, match="SPARQL Update"):
        run_query(f"INSERT DATA {{ <{EX}x> <{EX}name> \"X\" }}", store=store)
    assert len(run_query(f"SELECT ?s WHERE {{ ?s <{EX}name> ?n }}", store=store).rows()) == 3


def test_unreachable_endpoint_is_a_query_error() -> None:
    with pytest.raises(QueryError, match="cannot reach the endpoint"):
        run_query("ASK {}", endpoint="http://127.0.0.1:9/sparql", timeout=2)


# -- the catalogue on the seed graph ---------------------------------------------------------

D4DID = "https://w3id.org/d4d/id/"
D4D = "https://w3id.org/d4d/ontology#"
SECTOR = "https://w3id.org/d4d/sector/"


@pytest.fixture(scope="module")
def catalogue() -> dict[str, CatalogueQuery]:
    return load_catalogue()


def ask(seed_store: ox.Store, catalogue: dict[str, CatalogueQuery], query_name: str, /,
        **params: str) -> list[dict[str, str | None]]:
    return run_query(catalogue[query_name], store=seed_store, params=params).values()


def ids(rows: list[dict[str, str | None]], column: str) -> list[str]:
    return [(row[column] or "").removeprefix(D4DID) for row in rows]


def test_catalogue_has_at_least_twenty_documented_queries(catalogue: dict[str, CatalogueQuery]) -> None:
    assert len(catalogue) >= 20
    for query in catalogue.values():
        assert query.title and query.description and query.returns, query.name
        for param in query.params:
            assert param.description, f"{query.name}: parameter {param.name} has no description"


def test_every_query_runs_and_returns_its_declared_variables(
        seed_store: ox.Store, catalogue: dict[str, CatalogueQuery]) -> None:
    for query in catalogue.values():
        result = run_query(query, store=seed_store)
        if query.form == "SELECT":
            assert result.variables == list(query.returns), query.name
            assert result.rows(), f"{query.name} finds nothing on the seed graph"
        else:
            assert result.triples, f"{query.name} builds an empty graph"


def test_funding(seed_store: ox.Store, catalogue: dict[str, CatalogueQuery]) -> None:
    # seed 000: "Core seed funding ($400,000) was generously provided by The Rockefeller Foundation"
    rows = ask(seed_store, catalogue, "funding")
    assert [(r["funder"], r["recipient"], r["amount"], r["currency"]) for r in rows] == [
        (D4DID + "rockefeller-foundation", D4DID + "data-pop-alliance", "400000", "USD")]
    assert rows[0]["funderName"] == "The Rockefeller Foundation" and rows[0]["year"] is None
    assert len(ask(seed_store, catalogue, "funding", funder="d4did:rockefeller-foundation")) == 1
    assert ask(seed_store, catalogue, "funding", recipient="d4did:mit-media-lab") == []
    assert len(ask(seed_store, catalogue, "funding", min_amount="400000")) == 1
    assert ask(seed_store, catalogue, "funding", min_amount="400000.01") == []


def test_funding_between_sectors(seed_store: ox.Store, catalogue: dict[str, CatalogueQuery]) -> None:
    rows = ask(seed_store, catalogue, "funding-between-sectors")
    # Rockefeller (philanthropy) -> Data-Pop Alliance (development, academia, civil society)
    assert sorted((r["fromSector"], r["toSector"], r["currency"], r["grants"], r["total"]) for r in rows) == [
        (SECTOR + "philanthropy", SECTOR + to, "USD", "1", "400000")
        for to in ("academia", "civil-society", "development")]
    assert ask(seed_store, catalogue, "funding-between-sectors", in_currency="EUR") == []


def test_founders(seed_store: ox.Store, catalogue: dict[str, CatalogueQuery]) -> None:
    rows = ask(seed_store, catalogue, "founders", organization="d4did:data-pop-alliance")
    # seed 000: "created by the Harvard Humanitarian Initiative, MIT Media Lab, and Overseas
    # Development Institute"; "Emmanuel Letouzé, director and co-founder"; seed 001: the six
    # authors of the launch post write "we created Data-Pop".
    institutions = {"harvard-humanitarian-initiative", "mit-media-lab", "overseas-development-institute"}
    people = {"emmanuel-letouze", "claire-melamed", "alex-pentland", "phuong-pham", "emma-samman", "patrick-vinck"}
    assert set(ids(rows, "founder")) == institutions | people
    assert {r["founder"].removeprefix(D4DID): r["founderType"] for r in rows if r["founder"]} == {
        **{name: "Organization" for name in institutions}, **{name: "Person" for name in people}}
    assert ids(rows, "founder").count("emmanuel-letouze") == 2  # co-founder in two foundings
    assert ids(ask(seed_store, catalogue, "founders", founder="d4did:mit-media-lab"), "organization") == [
        "data-pop-alliance"]


def test_incubators(seed_store: ox.Store, catalogue: dict[str, CatalogueQuery]) -> None:
    # seed 000: "Data-Pop Alliance is incubated in New York City by ThoughtWorks NY"
    rows = ask(seed_store, catalogue, "incubators")
    assert [(r["incubatorName"], r["incubatedName"], r["placeName"]) for r in rows] == [
        ("ThoughtWorks NY", "Data-Pop Alliance", "New York City")]


def test_actor_profile(seed_store: ox.Store, catalogue: dict[str, CatalogueQuery]) -> None:
    rows = ask(seed_store, catalogue, "actor-profile")  # default: Data-Pop Alliance
    attributes = {(r["property"], r["value"]) for r in rows if r["section"] == "attribute"}
    assert (D4D + "name", "Data-Pop Alliance") in attributes
    assert (D4D + "alternateName", "Data-Pop") in attributes
    assert ("http://www.w3.org/1999/02/22-rdf-syntax-ns#type", D4D + "Alliance") in attributes
    assert {v for p, v in attributes if p == D4D + "sector"} == {
        SECTOR + "development", SECTOR + "academia", SECTOR + "civil-society"}
    assert (D4D + "location", D4DID + "new-york-city") in attributes
    funding = [r for r in rows if r["property"] == D4D + "Funding"]
    assert {(r["value"], r["source"]) for r in funding} == {
        (D4DID + "rockefeller-foundation", D4DID + "seed-datapop-website")}
    assert "$400,000" in (funding[0]["quote"] or "")
    assert {r["value"] for r in rows if r["property"] == D4D + "Incubation"} == {D4DID + "thoughtworks-ny"}
    assert all(r["source"] for r in rows if r["section"] in ("fact", "citation"))


def test_people_in_several_organisations(seed_store: ox.Store, catalogue: dict[str, CatalogueQuery]) -> None:
    # Letouzé: director of Data-Pop Alliance (seed 000) and "UC Berkeley demographer" (seed 000)
    rows = ask(seed_store, catalogue, "people-in-several-organisations")
    assert [(r["personName"], r["organizations"]) for r in rows] == [("Emmanuel Letouzé", "2")]
    assert set((rows[0]["organizationNames"] or "").split(" | ")) == {"Data-Pop Alliance", "UC Berkeley"}
    assert len(ask(seed_store, catalogue, "people-in-several-organisations", min_organizations="1")) == 7


def test_sector_bridges(seed_store: ox.Store, catalogue: dict[str, CatalogueQuery]) -> None:
    rows = ask(seed_store, catalogue, "sector-bridges", sector_a="sector:academia", sector_b="sector:philanthropy")
    # Data-Pop: founded by HHI, MIT Media Lab, ODI (academia); funded by Rockefeller and covered by the
    # MasterCard Center (philanthropy). Letouzé: member of Data-Pop and UC Berkeley, covered by Berkeley
    # Social Matrix (academia); covered by the MasterCard Center (philanthropy).
    assert sorted((r["actor"], r["viaA"], r["viaB"]) for r in rows) == [
        (D4DID + "data-pop-alliance", "3", "2"), (D4DID + "emmanuel-letouze", "3", "1")]
    reverse = ask(seed_store, catalogue, "sector-bridges", sector_a="sector:philanthropy", sector_b="sector:academia")
    assert sorted((r["actor"], r["viaA"], r["viaB"]) for r in reverse) == [
        (D4DID + "data-pop-alliance", "2", "3"), (D4DID + "emmanuel-letouze", "1", "3")]
    everything = ask(seed_store, catalogue, "sector-bridges")
    assert all((r["sectorA"] or "") < (r["sectorB"] or "") for r in everything)
    assert {(r["actor"], r["sectorA"], r["sectorB"]) for r in rows} <= {
        (r["actor"], r["sectorA"], r["sectorB"]) for r in everything}
    # Pentland: member and co-founder of Data-Pop (academia among its sectors), covered by WIRED (media)
    pentland = {(r["sectorA"], r["sectorB"]) for r in everything if r["actor"] == D4DID + "alex-pentland"}
    assert (SECTOR + "academia", SECTOR + "media") in pentland


def test_sector_insiders(seed_store: ox.Store, catalogue: dict[str, CatalogueQuery]) -> None:
    insiders = set(ids(ask(seed_store, catalogue, "sector-insiders"), "organization"))
    assert "mit-media-lab" in insiders  # its only organisation tie is Data-Pop Alliance, also academia
    assert "harvard-university" in insiders  # its units and HHI are all academia
    assert "rockefeller-foundation" not in insiders  # philanthropy, tied only to Data-Pop Alliance
    assert "data-pop-alliance" not in insiders  # funded by Rockefeller (philanthropy only)
    academia = set(ids(ask(seed_store, catalogue, "sector-insiders", sector="sector:academia"), "organization"))
    assert "mit-media-lab" in academia and "devex" not in academia and academia <= insiders


def test_chain(seed_store: ox.Store, catalogue: dict[str, CatalogueQuery]) -> None:
    rows = ask(seed_store, catalogue, "chain")  # Rockefeller -> UC Berkeley
    assert {(r["length"], r["node1"], r["node2"]) for r in rows} == {
        ("3", D4DID + "data-pop-alliance", D4DID + "emmanuel-letouze")}
    assert {r["link1"] for r in rows} == {"^funded by"}
    assert {r["link2"] for r in rows} == {"founded by", "^member of"}
    assert {r["link3"] for r in rows} == {"member of"}
    direct = ask(seed_store, catalogue, "chain", to="d4did:data-pop-alliance")
    assert {(r["length"], r["link1"], r["node1"]) for r in direct} == {
        ("1", "^funded by", None)}
    two = ask(seed_store, catalogue, "chain", to="d4did:mit-media-lab")
    assert {(r["length"], r["node1"], r["link2"]) for r in two} == {("2", D4DID + "data-pop-alliance", "founded by")}
    assert ask(seed_store, catalogue, "chain", to="d4did:rockefeller-foundation") == []
    # Watsi is tied only to SSIR's article, which no one else links to Rockefeller within four steps
    assert ask(seed_store, catalogue, "chain", to="d4did:watsi") == []


def test_media_coverage(seed_store: ox.Store, catalogue: dict[str, CatalogueQuery]) -> None:
    # seed 000 lists five pieces of 2015 (WIRED, MasterCard Center, Devex, KDnuggets, Berkeley Social
    # Matrix); the SSIR article (seed 002) has no date.
    by_year = ask(seed_store, catalogue, "media-coverage-by-year")
    assert [(r["year"], r["pieces"], r["outlets"]) for r in by_year] == [(None, "1", "1"), ("2015", "5", "5")]
    letouze = ask(seed_store, catalogue, "media-coverage", subject="d4did:emmanuel-letouze")
    assert sorted(ids(letouze, "outlet")) == ["berkeley-social-matrix", "devex", "kdnuggets",
                                              "mastercard-center-for-inclusive-growth"]
    assert ids(ask(seed_store, catalogue, "media-coverage"), "outlet")[0] == "wired"  # newest first (2015-10)


def test_sources_and_evidence(seed_store: ox.Store, catalogue: dict[str, CatalogueQuery]) -> None:
    ssir = ask(seed_store, catalogue, "facts-by-source", source="d4did:seed-ssir-collaboration")
    assert set(ids(ssir, "fact")) == {"activity-datakind-projects", "activity-crisis-text-line-data-team",
                                      "activity-watsi-data-team", "coverage-ssir-porway-collaboration",
                                      "membership-porway-datakind"}
    sources = {r["source"]: r for r in ask(seed_store, catalogue, "sources")}
    assert set(sources) == {D4DID + "seed-datapop-website", D4DID + "seed-datapop-launch-post",
                            D4DID + "seed-ssir-collaboration"}
    assert sources[D4DID + "seed-ssir-collaboration"]["facts"] == "5"
    assert all(r["fromSeeds"] == "true" for r in sources.values())
    lonely = set(ids(ask(seed_store, catalogue, "single-source-facts"), "fact"))
    assert "funding-rockefeller-data-pop-alliance-seed" in lonely
    assert "activity-data-pop-alliance-programme" not in lonely  # cited from the website and the launch post
    assert "founding-data-pop-alliance-letouze" in lonely  # two quotes, one document
    fundings = ask(seed_store, catalogue, "single-source-facts", type="d4d:Funding")
    assert ids(fundings, "fact") == ["funding-rockefeller-data-pop-alliance-seed"]
    prov = {r["document"]: r for r in ask(seed_store, catalogue, "prov-derivation")}
    assert set(prov) == set(sources)


def test_standard_vocabularies_agree_with_d4d(seed_store: ox.Store, catalogue: dict[str, CatalogueQuery]) -> None:
    grants = ask(seed_store, catalogue, "schema-grants")
    funding = ask(seed_store, catalogue, "funding")
    assert [(g["grant"], g["funder"], g["recipient"], g["amount"], g["currency"]) for g in grants] == [
        (f["funding"], f["funder"], f["recipient"], f["amount"], f["currency"]) for f in funding]
    schema_founders = ask(seed_store, catalogue, "schema-founders", organization="d4did:data-pop-alliance")
    d4d_founders = ask(seed_store, catalogue, "founders", organization="d4did:data-pop-alliance")
    assert set(ids(schema_founders, "founder")) == set(ids(d4d_founders, "founder"))
    memberships = ask(seed_store, catalogue, "org-memberships")
    assert len(memberships) == 11
    assert ("Alex “Sandy” Pentland", "Data-Pop Alliance", "Academic Director") in {
        (r["memberName"], r["organizationName"], r["roleName"]) for r in memberships}
    units = ask(seed_store, catalogue, "org-structure", parent="d4did:harvard-university")
    assert sorted(ids(units, "unit")) == ["harvard-chan-school-of-public-health", "harvard-humanitarian-initiative",
                                          "harvard-office-of-the-provost"]
    people = ask(seed_store, catalogue, "people")
    assert len({r["person"] for r in people}) == 7
    assert ids([r for r in people if r["name"] == "Emmanuel Letouzé"], "organization") == [
        "data-pop-alliance", "uc-berkeley"]


def test_lookup_neighbours_cofounders_sectors_timeline(seed_store: ox.Store,
                                                       catalogue: dict[str, CatalogueQuery]) -> None:
    assert len(ask(seed_store, catalogue, "actors")) == 26  # 19 organisations and 7 people
    assert ids(ask(seed_store, catalogue, "actors", name="Data-Pop"), "actor") == ["data-pop-alliance"]
    assert ids(ask(seed_store, catalogue, "actors", name="HHI"), "actor") == ["harvard-humanitarian-initiative"]
    assert ask(seed_store, catalogue, "actors", name="data-pop") == []  # exact: case counts
    harvard = ask(seed_store, catalogue, "actors", contains="HARVARD")
    assert len(harvard) == 4
    units = ask(seed_store, catalogue, "actors", contains="harvard", type="d4d:AcademicUnit")
    assert sorted(ids(units, "actor")) == ["harvard-chan-school-of-public-health", "harvard-office-of-the-provost"]
    assert {r["kind"] for r in units} == {D4D + "AcademicUnit"}
    odi = ask(seed_store, catalogue, "actors", contains="Overseas")
    assert [r["kind"] for r in odi] == [D4D + "ThinkTank"]  # the most specific kind

    hhi = ask(seed_store, catalogue, "neighbours", actor="d4did:harvard-humanitarian-initiative")
    assert {(r["relationship"].removeprefix(D4D), r["direction"], r["other"].removeprefix(D4DID))  # type: ignore[union-attr]
            for r in hhi} == {("Founding", "out", "data-pop-alliance"), ("SubOrganization", "out", "harvard-university"),
                              ("Support", "in", "harvard-chan-school-of-public-health"),
                              ("Support", "in", "harvard-university"), ("Support", "in", "harvard-office-of-the-provost")}

    pairs = ask(seed_store, catalogue, "co-founders", organization="d4did:data-pop-alliance")
    assert len(pairs) == 36  # 9 founders, each pair once

    sectors = {r["sector"]: r for r in ask(seed_store, catalogue, "sectors")}
    assert len(sectors) == 8
    assert (sectors[SECTOR + "philanthropy"]["organizations"], sectors[SECTOR + "philanthropy"]["fundingsGiven"]) == (
        "2", "1")

    timeline = ask(seed_store, catalogue, "timeline")
    assert [(r["year"], r["fact"]) for r in timeline[:2]] == [
        ("1985", D4DID + "founding-mit-media-lab"), ("2005", D4DID + "founding-harvard-humanitarian-initiative")]
    assert {r["year"] for r in ask(seed_store, catalogue, "timeline", from_year="2010")} == {"2015"}


def test_ego_network_is_rdf(seed_store: ox.Store, catalogue: dict[str, CatalogueQuery]) -> None:
    result = run_query(catalogue["ego-network"], store=seed_store)
    turtle = serialize(result, "turtle") or b""
    graph = {(q.subject.value, q.predicate.value, q.object.value) for q in ox.parse(turtle, ox.RdfFormat.TURTLE)}
    assert (D4DID + "data-pop-alliance", D4D + "fundedBy", D4DID + "rockefeller-foundation") in graph
    assert (D4DID + "data-pop-alliance", D4D + "incubatedBy", D4DID + "thoughtworks-ny") in graph
    assert (D4DID + "emmanuel-letouze", D4D + "memberOf", D4DID + "data-pop-alliance") in graph
    assert (D4DID + "rockefeller-foundation", D4D + "name", "The Rockefeller Foundation") in graph

