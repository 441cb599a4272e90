"""The CLI: every command has help; build, validate and query format the library's answers."""

from __future__ import annotations

from pathlib import Path

import click
from click.testing import CliRunner

from d4d.cli import main
from project_fixtures import write_spreadsheet_source


def test_every_command_has_help() -> None:
    runner = CliRunner()
    assert isinstance(main, click.Group)
    for name, command in main.commands.items():
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0, name
        assert command.help, f"{name} has no help text"


def test_validate(seed_project: Path) -> None:
    result = CliRunner().invoke(main, ["validate", "--project", str(seed_project), "-q", "--no-reasoner"])
    assert result.exit_code == 0, result.output
    assert "valid: 19 organisations, 7 people, 31 relationships" in result.output


def test_build_summary(seed_project: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["build", "--project", str(seed_project), "--out", str(tmp_path), "-q",
                                       "--no-reasoner", "--rdf-only"])
    assert result.exit_code == 0, result.output
    assert "19 organisations, 7 people, 31 relationships" in result.output
    assert "Funding 1" in result.output
    assert (tmp_path / "ecosystem.ttl").is_file()


def test_build_strict_stops_at_a_source_that_breaks_a_shape(project_copy: Path, tmp_path: Path) -> None:
    """By default a source's violations are reported and the build goes on; ``--strict`` stops it
    with the record, also when the source is reused from the last build, and keeps that build."""
    write_spreadsheet_source(project_copy)  # its organisation has no sector
    out = tmp_path / "build"
    args = ["build", "--project", str(project_copy), "--out", str(out), "-q", "--no-reasoner", "--rdf-only"]
    runner = CliRunner()
    strict = runner.invoke(main, [*args, "--strict"])
    assert strict.exit_code == 1
    assert "error:" in strict.output and "sector" in strict.output and "actors.csv" in strict.output
    assert not (out / "store").exists()
    lenient = runner.invoke(main, args)
    assert lenient.exit_code == 0, lenient.output
    assert "sheet: 1 shape violations (not fatal: --strict stops the build)" in lenient.output
    before = sorted(p.name for p in out.iterdir())
    again = runner.invoke(main, [*args, "--strict"])  # nothing changed: the store is reused
    assert again.exit_code == 1 and "sector" in again.output
    assert sorted(p.name for p in out.iterdir()) == before


def test_query_table_and_formats(seed_build: Path, root: Path) -> None:
    runner = CliRunner()
    query = str(root / "queries" / "competency" / "incubators.rq")
    result = runner.invoke(main, ["query", query, "--store", str(seed_build)])
    assert result.exit_code == 0, result.output
    assert "ThoughtWorks NY" in result.output and "New York City" in result.output
    result = runner.invoke(main, ["query", "-e", "PREFIX schema: <https://schema.org/> "
                                  "SELECT ?d WHERE { ?x schema:foundingDate ?d } ORDER BY ?d",
                                  "--store", str(seed_build), "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert result.output.replace("\r\n", "\n") == "d\n1985\n2005\n"


def test_query_errors_are_one_line_and_exit_1(seed_build: Path) -> None:
    result = CliRunner().invoke(main, ["query", "-e", "SELECT * WHERE { ?x ?y }", "--store", str(seed_build)])
    assert result.exit_code == 1
    assert "syntax error at line 1, column" in result.output
    result = CliRunner().invoke(main, ["query", "-e", "SELECT * WHERE { ?s ?p ?o }", "--store",
                                       str(seed_build / "nowhere")])
    assert result.exit_code == 1 and "error:" in result.output
