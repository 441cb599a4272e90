"""Other stores: push and every catalogue query give the same answers on Oxigraph and on OpenLink
Virtuoso (Debian's virtuoso-opensource-7), both real servers started on 127.0.0.1 by the tests."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from sparql_servers import VIRTUOSO_DBA_PASSWORD, Oxigraph, Virtuoso, oxigraph_server, virtuoso_server
from test_push import rows_of

from d4d.errors import QueryError
from d4d.push import PushReport, push
from d4d.sparql import load_catalogue, run_query

pytestmark = pytest.mark.server

GRAPH = "https://w3id.org/d4d/graph"
ROOT = Path(__file__).resolve().parents[1]
AUTH = ("dba", VIRTUOSO_DBA_PASSWORD)


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Virtuoso]:
    with virtuoso_server(tmp_path_factory.mktemp("virtuoso")) as server:
        yield server


@pytest.fixture(scope="module")
def pushed(virtuoso: Virtuoso, seed_build: Path, tmp_path_factory: pytest.TempPathFactory) -> PushReport:
    """The seed build pushed into Virtuoso's named graph GRAPH, with digest authentication."""
    return push(seed_build / "ecosystem.ttl", virtuoso.store, graph=GRAPH, auth=AUTH, chunk_size=1000,
                checkpoint_dir=tmp_path_factory.mktemp("checkpoint"))


@pytest.fixture(scope="module")
def oxigraph(seed_build: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Oxigraph]:
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph")) as server:
        push(seed_build / "ecosystem.ttl", server.store, chunk_size=1000,
             checkpoint_dir=tmp_path_factory.mktemp("checkpoint"))
        yield server


def scoped(virtuoso: Virtuoso) -> str:
    """Virtuoso's query endpoint with its default graph set to GRAPH (it would otherwise read
    every graph it holds, its own system graphs included)."""
    return f"{virtuoso.query}?{urllib.parse.urlencode({'default-graph-uri': GRAPH})}"


def test_push_with_digest_auth_and_the_count_checked(pushed: PushReport, virtuoso: Virtuoso,
                                                     oxigraph: Oxigraph) -> None:
    assert pushed.server_triples == pushed.triples == virtuoso.count(GRAPH) == oxigraph.count()
    assert pushed.note == ""  # the seed holds no two numbers equal in value on one subject and property


def test_every_catalogue_query_answers_alike(pushed: PushReport, virtuoso: Virtuoso, oxigraph: Oxigraph) -> None:
    differ = []
    for query in load_catalogue().values():
        expected = rows_of(query, endpoint=oxigraph.query, booleans_as_numbers=True)
        assert expected, f"{query.name} finds nothing on the seed graph"
        if rows_of(query, endpoint=scoped(virtuoso), booleans_as_numbers=True) != expected:
            differ.append(query.name)
    assert differ == []


def test_a_store_merging_equal_numbers_is_reported(virtuoso: Virtuoso, tmp_path: Path) -> None:
    source = tmp_path / "numbers.nt"
    xsd = "http://www.w3.org/2001/XMLSchema#"
    source.write_text(f'<http://example.org/a> <http://example.org/v> "0"^^<{xsd}integer> .\n'
                      f'<http://example.org/a> <http://example.org/v> "0"^^<{xsd}double> .\n'
                      f'<http://example.org/a> <http://example.org/v> "7"^^<{xsd}integer> .\n', encoding="utf-8")
    report = push(source, virtuoso.store, graph="http://example.org/numbers", auth=AUTH)
    assert (report.triples, report.server_triples) == (3, 2)
    assert report.note.startswith("the server holds 2 of the 3 triples sent: it keeps one literal for "
                                  "numeric values that are equal (1 triples")


def test_errors_are_one_line_with_the_servers_reason(virtuoso: Virtuoso, seed_build: Path, tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT), D4D_PUSH_PASSWORD=VIRTUOSO_DBA_PASSWORD)
    command = [sys.executable, "-m", "d4d.cli", "push", "--source", str(seed_build / "ecosystem.ttl"), "-q"]
    # Virtuoso has no default graph in the Graph Store protocol
    run = subprocess.run(command + ["--endpoint", virtuoso.store, "--user", "dba"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and len(run.stderr.strip().splitlines()) == 1
    assert "is not configured to have default graph" in run.stderr and "--graph" in run.stderr
    # a wrong password
    run = subprocess.run(command + ["--endpoint", virtuoso.store, "--user", "dba", "--graph", GRAPH + "/x"],
                         env=dict(env, D4D_PUSH_PASSWORD="wrong"), capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and "refused with 401" in run.stderr and "wrong" not in run.stderr
    # credentials in the URL are refused, and not printed
    url = virtuoso.store.replace("http://", f"http://dba:{VIRTUOSO_DBA_PASSWORD}x@")
    run = subprocess.run(command + ["--endpoint", url, "--graph", GRAPH], env=env, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode != 0 and "holds credentials" in run.stderr
    assert f"{VIRTUOSO_DBA_PASSWORD}x" not in run.stderr + run.stdout


def test_netrc_credentials_and_the_cli(virtuoso: Virtuoso, seed_build: Path, tmp_path: Path) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login dba password {VIRTUOSO_DBA_PASSWORD}\n", encoding="utf-8")
    netrc.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if k != "D4D_PUSH_PASSWORD"}
    env["PYTHONPATH"] = str(ROOT)
    graph = GRAPH + "/netrc"
    run = subprocess.run([sys.executable, "-m", "d4d.cli", "push", "--source", str(seed_build / "ecosystem.ttl"),
                          "--endpoint", virtuoso.store, "--graph", graph, "--netrc", str(netrc), "-q"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert VIRTUOSO_DBA_PASSWORD not in run.stdout.replace("dba", "")
    assert virtuoso.count(graph) == int(run.stdout.split("pushed ")[1].split()[0])
