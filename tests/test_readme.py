"""The README's notebook session runs as a doctest, in a copy of the project; the README stays a guide."""

from __future__ import annotations

import doctest
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_is_a_short_guide() -> None:
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) < 300


def test_the_notebook_session_runs(tmp_path: Path, shared: Path) -> None:
    pytest.importorskip("pandas")
    project = tmp_path / "main"
    project.mkdir()
    for name in ("ontology", "graph"):
        shutil.copytree(ROOT / name, project / name)
    shutil.copy(ROOT / "imports.yaml", project / "imports.yaml")
    from d4d.fetch import fetch
    fetch(project, mirror=shared / "data")  # what make build does before the session
    here = Path.cwd()
    os.chdir(project)
    try:
        result = doctest.testfile(str(ROOT / "README.md"), module_relative=False, report=False,
                                  optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    finally:
        os.chdir(here)
    assert result.attempted >= 10
    assert result.failed == 0
    assert (project / "datakind.html").is_file() and (project / "field.gexf").is_file()
    # the populated default writes every output of the build's contract
    for name in ("ecosystem.ttl", "ecosystem.jsonld", "store", "map.html", "metrics.json", "report.html"):
        assert (project / "build" / name).exists(), name
