"""Shared fixtures: the project's folders, a copy of the project to break, and one seed build per session."""

from __future__ import annotations

import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def root() -> Path:
    """The project folder (holding ontology/, graph/, queries/)."""
    return ROOT


@pytest.fixture(scope="session")
def shared() -> Path:
    """The shared folder beside the checkout: seeds/ and data/."""
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside the checkout")
    return SHARED


@pytest.fixture(scope="session")
def seed_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's curated seed ecosystem alone: ontology/, graph/ and queries/ without imports.yaml
    (the project's default build also imports the field's sources, which takes longer than a test should)."""
    project = tmp_path_factory.mktemp("seed-project")
    for name in ("ontology", "graph", "queries"):
        shutil.copytree(ROOT / name, project / name)
    return project


@pytest.fixture(scope="session")
def seed_build(seed_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed ecosystem built once per session (RDF outputs and store); returns the build folder."""
    from d4d.pipeline import build

    out = tmp_path_factory.mktemp("seed-build")
    build(seed_project, out=out, extras=False)
    return out


@pytest.fixture(scope="session")
def seed_store(seed_build: Path):  # type: ignore[no-untyped-def]
    """The seed build's store, opened read-only."""
    from d4d.store import open_store

    return open_store(seed_build / "store")


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A writable copy of the project's ontology and facts, to break in a test."""
    for name in ("ontology", "graph"):
        shutil.copytree(ROOT / name, tmp_path / name)
    return tmp_path


@pytest.fixture(scope="session")
def covid_import(shared: Path):  # type: ignore[no-untyped-def]
    """The covid IATI extract imported once per session: (in-memory store, import report).

    Organisations resolve against the project's crosswalk and curated records, as in a build.
    Treat it as read-only.
    """
    import pyoxigraph as ox

    from d4d.imports import SourceSpec, import_source, resolver_for

    store = ox.Store()
    spec = SourceSpec("iati-covid", "iati", (shared / "data/hdx-scraper-iati-viz/covid/dportal.xml",))
    report = import_source(store, spec, resolver=resolver_for(ROOT, decisions=False))
    return store, report


@pytest.fixture
def document_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real HTTP server on 127.0.0.1 serving a folder."""
    folder = tmp_path / "site"
    folder.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)  # type: ignore[arg-type]

        def log_message(self, *args: object) -> None:
            pass

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = False   # server_close() joins the threads of the requests still being answered

    server = Server(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, name="document-server")
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", folder
    finally:
        server.shutdown()        # serve_forever returns
        thread.join()
        server.server_close()    # the socket is closed and the request threads joined
