"""Fetch: declared files downloaded from a real HTTP server on 127.0.0.1, or copied from a mirror, each
checked against its SHA-256; a mismatch is refused and nothing is written in its place."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from d4d.cli import main
from d4d.errors import SourceError
from d4d.fetch import declared_files, fetch
from d4d.imports import read_project

ROOT = Path(__file__).resolve().parents[1]


def _project(folder: Path, base: str, files: dict[str, bytes], *, wrong: str | None = None) -> Path:
    project = folder / "project"
    project.mkdir()
    lines = ["data: data", "sources:", "  - name: tiny", "    kind: dpg", "    paths: [data/tiny]", "    files:"]
    for name, data in files.items():
        digest = hashlib.sha256(b"something else" if name == wrong else data).hexdigest()
        lines += [f"      - path: tiny/{name}", f"        url: {base}/{name}", f"        sha256: {digest}"]
    (project / "imports.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return project


def test_fetch_downloads_checks_and_keeps(document_server: tuple[str, Path], tmp_path: Path) -> None:
    base, served = document_server
    files = {"a.json": b"[1, 2, 3]\n", "b.json": b"x" * 3_000_000}
    for name, data in files.items():
        (served / name).write_bytes(data)
    project = _project(tmp_path, base, files)
    seen: list[tuple[str, int, int | None]] = []
    results = fetch(project, progress=lambda f, done, total: seen.append((f.path, done, total)))
    assert [(r.file.path, r.action, r.size) for r in results] == [("tiny/a.json", "downloaded", 10),
                                                                  ("tiny/b.json", "downloaded", 3_000_000)]
    assert (project / "data/tiny/b.json").read_bytes() == files["b.json"]
    assert seen[-1] == ("tiny/b.json", 3_000_000, 3_000_000) and len(seen) >= 4   # 1 MB chunks
    # a second fetch checks what is there and downloads nothing
    (served / "a.json").unlink()
    assert [r.action for r in fetch(project)] == ["present", "present"]
    # a local file that was changed is refused, not replaced
    (project / "data/tiny/a.json").write_bytes(b"[]\n")
    with pytest.raises(SourceError, match="does not match the declared"):
        fetch(project)
    assert (project / "data/tiny/a.json").read_bytes() == b"[]\n"


def test_fetch_refuses_a_mismatch(document_server: tuple[str, Path], tmp_path: Path) -> None:
    base, served = document_server
    files = {"good.json": b"[]\n", "bad.json": b"[{}]\n"}
    for name, data in files.items():
        (served / name).write_bytes(data)
    project = _project(tmp_path, base, files, wrong="bad.json")
    result = CliRunner().invoke(main, ["fetch", "--project", str(project), "-q"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "bad.json" in lines[0] and "refused" in lines[0]
    assert (project / "data/tiny/good.json").is_file()          # checked and kept
    assert not (project / "data/tiny/bad.json").exists()        # nothing in its place
    assert not (project / "data/tiny/bad.json.part").exists()


def test_fetch_reports_a_missing_file_on_the_server(document_server: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = document_server
    project = _project(tmp_path, base, {"gone.json": b"[]"})
    with pytest.raises(SourceError, match="cannot download .*gone.json: HTTP 404"):
        fetch(project)


def test_fetch_from_the_mirror_and_the_project_declares_every_file(shared: Path, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "imports.yaml").write_bytes((ROOT / "imports.yaml").read_bytes())
    results = fetch(project, mirror=shared / "data", sources=["dpg-registry", "civic-graph"])
    assert [(r.file.path, r.action) for r in results] == [("publicgoods-api/dpgs/index.json", "copied"),
                                                          ("publicgoods-api/nominees/index.json", "copied"),
                                                          ("civic-graph-API/civic.json", "copied")]
    # every declared source reads only declared files, and each is pinned to a commit with its hash
    config = read_project(ROOT)
    data, files = declared_files(ROOT)
    assert data == ROOT / "data"
    for spec in config.sources:
        assert spec.files, spec.name
        declared = {data / f.path for f in spec.files}
        for path in spec.paths:
            assert path in declared or any(d.is_relative_to(path) for d in declared), (spec.name, path)
    for file in files:
        assert file.url.startswith("https://raw.githubusercontent.com/") and len(file.url.split("/")[5]) == 40
        assert (shared / "data" / file.path).is_file()
    result = CliRunner().invoke(main, ["fetch", "--project", str(project), "--mirror", str(tmp_path / "nowhere")])
    assert result.exit_code == 2    # click: the mirror folder does not exist
