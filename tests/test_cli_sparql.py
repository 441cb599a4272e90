"""The SPARQL commands of the CLI: queries, query, serve, push (click's CliRunner, real servers)."""

from __future__ import annotations

import csv
import io
import json
import re
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from sparql_servers import d4d_serve, oxigraph_server

from d4d.cli import main

COMMANDS = ("queries", "query", "serve", "push")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output and len(result.output.splitlines()) > 4


def test_queries_lists_the_catalogue() -> None:
    result = CliRunner().invoke(main, ["queries"])
    assert result.exit_code == 0, result.output
    names = re.findall(r"^(\S+)  ", result.output, re.MULTILINE)
    assert len(names) >= 20 and "funding" in names and "chain" in names
    assert "-p to=<iri>  default d4did:uc-berkeley" in result.output


def test_queries_reads_another_folder_and_reports_bad_headers(tmp_path: Path) -> None:
    (tmp_path / "mine.rq").write_text("# title: Mine\n# param: x colour red Bad type\nSELECT ?x WHERE { ?x ?p ?o }\n")
    result = CliRunner().invoke(main, ["queries", "--catalogue", str(tmp_path)])
    assert result.exit_code == 1
    assert "mine.rq, line 2: unknown parameter type 'colour'" in result.output


def test_query_by_name_with_params_and_formats(seed_build: Path) -> None:
    runner = CliRunner()
    table = runner.invoke(main, ["query", "funding", "--store", str(seed_build)])
    assert table.exit_code == 0, table.output
    assert "The Rockefeller Foundation" in table.output and "400000" in table.output
    assert "(1 rows)" in table.output

    founders = runner.invoke(main, ["query", "founders", "--store", str(seed_build), "-p",
                                    "founder=d4did:mit-media-lab", "--format", "csv"])
    assert founders.exit_code == 0, founders.output
    rows = list(csv.DictReader(io.StringIO(founders.output)))
    assert [(r["founderName"], r["organizationName"]) for r in rows] == [("MIT Media Lab", "Data-Pop Alliance")]

    ask = runner.invoke(main, ["query", "-e", "PREFIX d4did: <https://w3id.org/d4d/id/> "
                               "ASK { ?f ?p d4did:data-pop-alliance }", "--store", str(seed_build), "-f", "json"])
    assert json.loads(ask.output) == {"head": {}, "boolean": True}

    graph = runner.invoke(main, ["query", "ego-network", "--store", str(seed_build), "-f", "ntriples"])
    assert ("<https://w3id.org/d4d/id/data-pop-alliance> <https://w3id.org/d4d/ontology#incubatedBy> "
            "<https://w3id.org/d4d/id/thoughtworks-ny> .") in graph.output.splitlines()


def test_query_from_a_file_and_stdin(seed_build: Path, tmp_path: Path) -> None:
    path = tmp_path / "count.rq"
    path.write_text("SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://w3id.org/d4d/ontology#Funding> }\n")
    from_file = CliRunner().invoke(main, ["query", str(path), "--store", str(seed_build), "-f", "tsv"])
    assert from_file.output.splitlines() == ["?n", "1"]
    from_stdin = CliRunner().invoke(main, ["query", "-", "--store", str(seed_build), "-f", "tsv"],
                                    input=path.read_text())
    assert from_stdin.output.splitlines() == ["?n", "1"]


def test_query_errors_are_one_line(seed_build: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    syntax = runner.invoke(main, ["query", "-e", "SELECT * WHERE {\n  ?s ?p }", "--store", str(seed_build)])
    assert syntax.exit_code == 1 and "syntax error at line 2, column" in syntax.output
    missing = runner.invoke(main, ["query", "funding", "--store", str(tmp_path / "nothing")])
    assert missing.exit_code == 1 and "run `d4d build` first" in missing.output
    bad_param = runner.invoke(main, ["query", "funding", "--store", str(seed_build), "-p", "min_amount=lots"])
    assert bad_param.exit_code == 1 and "'lots' is not a valid decimal" in bad_param.output
    unknown = runner.invoke(main, ["query", "nosuchquery", "--store", str(seed_build)])
    assert unknown.exit_code == 1 and "no catalogue query or file called 'nosuchquery'" in unknown.output


@pytest.mark.server
def test_serve_starts_an_endpoint_and_query_runs_against_it(seed_build: Path) -> None:
    with d4d_serve(seed_build) as endpoint:
        url = endpoint + "?" + urllib.parse.urlencode({"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"})
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": "text/csv"}), timeout=30) as r:
            assert int(r.read().decode().split()[1]) > 3000
        remote = CliRunner().invoke(main, ["query", "incubators", "--endpoint", endpoint, "-f", "csv"])
        assert remote.exit_code == 0, remote.output
        rows = list(csv.DictReader(io.StringIO(remote.output)))
        assert [(r["incubatorName"], r["placeName"]) for r in rows] == [("ThoughtWorks NY", "New York City")]


@pytest.mark.server
def test_push_then_query_the_server(seed_build: Path, tmp_path: Path) -> None:
    with oxigraph_server(tmp_path / "oxigraph") as server:
        runner = CliRunner()
        pushed = runner.invoke(main, ["push", "--endpoint", server.store, "--source",
                                      str(seed_build / "ecosystem.ttl"), "--chunk-size", "1000"])
        assert pushed.exit_code == 0, pushed.output
        assert re.search(r"pushed \d+ triples in \d+ chunks to " + re.escape(server.store + "?default"),
                         pushed.output)
        assert "chunk 1/" in pushed.output  # progress (stderr, mixed in by CliRunner)
        count = server.count()
        again = runner.invoke(main, ["push", "--endpoint", server.store, "--source",
                                     str(seed_build / "ecosystem.ttl"), "-q"])
        assert again.exit_code == 0 and server.count() == count
        funding = runner.invoke(main, ["query", "funding", "--endpoint", server.query, "-f", "csv"])
        rows = list(csv.DictReader(io.StringIO(funding.output)))
        assert [(r["funderName"], r["recipientName"], r["amount"]) for r in rows] == [
            ("The Rockefeller Foundation", "Data-Pop Alliance", "400000")]
    refused = CliRunner().invoke(main, ["push", "--endpoint", "http://127.0.0.1:9/store", "--source",
                                        str(seed_build / "ecosystem.ttl"), "-q"])
    assert refused.exit_code == 1 and "error:" in refused.output
