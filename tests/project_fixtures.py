"""Small project files shared by the tests that build a project with a declared source."""

from __future__ import annotations

from pathlib import Path


def write_spreadsheet_source(project: Path) -> None:
    """Declare in ``project`` a spreadsheet source marked ``build: true``: one funder (Test Funder, a
    Foundation) funding the seed actor data-pop-alliance. Its graph is ``graph/source/sheet``."""
    (project / "actors.csv").write_text("Name,Kind\nTest Funder,Foundation\n", encoding="utf-8")
    (project / "ties.csv").write_text("From,To\nTest Funder,data-pop-alliance\n", encoding="utf-8")
    (project / "map.yaml").write_text(
        "actors: {file: actors.csv, type: Kind, fields: {name: Name}}\n"
        "relationships: {file: ties.csv, default_type: Funding, fields: {funder: From, recipient: To}}\n",
        encoding="utf-8")
    (project / "imports.yaml").write_text(
        "sources:\n  - {name: sheet, kind: spreadsheet, paths: [actors.csv, ties.csv], build: true, "
        "options: {mapping: map.yaml}}\n", encoding="utf-8")
