"""``d4d analyse`` on the seed build: metrics JSON, report and RDF written, summary on stderr."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from rdflib import Graph

from d4d.cli import main
from d4d.vocab import D4D


def test_analyse_writes_metrics_report_and_rdf(seed_build: Path, root: Path, tmp_path: Path) -> None:
    out, report, rdf = tmp_path / "metrics.json", tmp_path / "report.html", tmp_path / "metrics.ttl"
    result = CliRunner().invoke(main, ["analyse", "--store", str(seed_build), "--ontology",
                                       str(root / "ontology"), "-o", str(out), "--report",
                                       str(report), "--rdf", str(rdf)])
    assert result.exit_code == 0, result.output
    metrics = json.loads(out.read_text(encoding="utf-8"))
    assert metrics["summary"]["actors"] > 10
    assert f"{metrics['summary']['actors']} actors" in result.output
    assert "Recommended ties across sectors" in report.read_text(encoding="utf-8")
    g = Graph().parse(rdf)
    assert len(list(g.subjects(D4D.eiIndex, None))) >= 1


def test_analyse_json_to_stdout_and_help(seed_build: Path, root: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["analyse", "--store", str(seed_build), "--ontology",
                                  str(root / "ontology"), "-o", "-", "--no-by-year",
                                  "--people", "exclude"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert metrics["series"] is None and metrics["meta"]["unassigned"] == "exclude"
    help_text = runner.invoke(main, ["analyse", "--help"]).output
    assert "--year" in help_text and "--by-year" in help_text


def test_analyse_without_a_store_is_one_line_error(tmp_path: Path, root: Path) -> None:
    result = CliRunner().invoke(main, ["analyse", "--store", str(tmp_path / "none"), "--ontology",
                                       str(root / "ontology"), "-o", str(tmp_path / "m.json")])
    assert result.exit_code == 1
    assert result.output.startswith("error:")


def test_analyse_by_year_on_the_seed(seed_build: Path, root: Path) -> None:
    """The seed's dated facts: the MIT Media Lab founded 1985, HHI 2005, five 2015 relationships;
    HHI [humanitarian, academia] is the only humanitarian actor."""
    runner = CliRunner()

    def run(*extra: str) -> dict:  # type: ignore[type-arg]
        result = runner.invoke(main, ["analyse", "--store", str(seed_build), "--ontology",
                                      str(root / "ontology"), "-o", "-", *extra])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)  # type: ignore[no-any-return]

    whole = run()
    assert whole["series"]["years"] == list(range(1985, 2016))
    hum = whole["network"]["sectors"]["humanitarian"]
    assert (hum["members"], hum["actors"]) == (1, 0.5)
    assert whole["sectors"]["ei"]["by_sector"]["humanitarian"]["value"] is not None
    hhi = "https://w3id.org/d4d/id/harvard-humanitarian-initiative"
    early, later = run("--year", "1990", "--no-by-year"), run("--year", "2006", "--no-by-year")
    assert hhi not in early["actors"] and hhi in later["actors"]
    assert early["summary"]["actors"] < later["summary"]["actors"] <= whole["summary"]["actors"]
    assert early["meta"]["undated"]["relationships"] <= whole["meta"]["undated"]["relationships"]
