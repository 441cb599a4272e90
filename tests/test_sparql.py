"""The query layer on hand-made graphs: header format, binding safety, formats, errors.

The catalogue itself (queries/*.rq) is tested on the seed graph in test_catalogue.py.
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
from d4d.sparql import (bind, declared_prefixes, load_catalogue, parse_query_text, parse_value,
                        query_form, resolve_params, resolve_query, run_query, select_variables,
                        serialize, service_calls, to_table)
from d4d.store import memory_store

EX = "http://example.org/"
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
