"""The build: its outputs, their determinism, and a failed build leaving the previous build/ untouched."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from rdflib import Graph
from rdflib.compare import isomorphic

from d4d import reason
from d4d.pipeline import build
from d4d.cli import main
from d4d.store import count_matches, open_store
from d4d.vocab import ID


def leftovers(out: Path) -> list[str]:
    """Hidden entries of a build folder other than its current build."""
    current = os.readlink(out / "current")
    return sorted(p.name for p in out.iterdir() if p.name.startswith(".") and p.name != current)


def test_outputs(seed_build: Path) -> None:
    for name in ("ecosystem.ttl", "ecosystem.jsonld", "store"):
        assert (seed_build / name).exists()
        assert os.readlink(seed_build / name) == f"current/{name}"
    assert not leftovers(seed_build)
    ttl = Graph().parse(seed_build / "ecosystem.ttl", format="turtle")
    jsonld = Graph().parse(seed_build / "ecosystem.jsonld", format="json-ld")
    assert isomorphic(ttl, jsonld)
    assert len(ttl) > 3000
    text = (seed_build / "ecosystem.ttl").read_text(encoding="utf-8")
    assert text.startswith("@prefix ") and "@prefix d4d: <https://w3id.org/d4d/ontology#> ." in text
    assert "@context" in json.loads((seed_build / "ecosystem.jsonld").read_text(encoding="utf-8"))
    store = open_store(seed_build / "store")
    graphs = {g.value for g in store.named_graphs()}
    assert graphs == {"https://w3id.org/d4d/graph/ontology", "https://w3id.org/d4d/graph/facts"}
    # the inferences are in the default graph only, with the merge of the named graphs
    default = {q.triple for q in store.quads_for_pattern(None, None, None, ox.DefaultGraph())}
    named = {q.triple for q in store.quads_for_pattern(None, None, None, None)
             if not isinstance(q.graph_name, ox.DefaultGraph)}
    assert named <= default
    assert len(default - named) == len(reason.inferred_graph(store)) > 1000
    assert len(default) == len(ttl)


def _digest(folder: Path) -> dict[str, str]:
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest()
            for name in ("ecosystem.ttl", "ecosystem.jsonld")}


def test_build_is_deterministic(seed_project: Path, seed_build: Path, tmp_path: Path) -> None:
    build(seed_project, out=tmp_path / "again", extras=False, reasoner=False)
    assert _digest(tmp_path / "again") == _digest(seed_build)



def test_no_personal_contact_data_in_the_graph(seed_build: Path) -> None:
    import re
    text = (seed_build / "ecosystem.ttl").read_text(encoding="utf-8")
    assert not re.search(r"[\w.+-]+@[\w-]+\.[a-z]{2,}", text)
    assert "mailto:" not in text and "tel:" not in text


BAD_INPUTS = {
    "yaml syntax": ("zz.yaml", "- id: x\n  type: NGO\n  name: [unclosed\n", "YAML syntax error"),
    "unknown reference": ("zz.yaml", "- id: x\n  type: Support\n  supporter: nobody\n  supported: datakind\n",
                          "unknown reference 'nobody'"),
    "duplicate id": ("zz.yaml", "- id: datakind\n  type: NGO\n  name: D\n", "duplicate id 'datakind'"),
    "impossible date": ("zz.yaml", "- id: x\n  type: Founding\n  founded: datakind\n  date: 2011-02-29\n",
                        "not a real date"),
    "negative amount": ("zz.yaml", "- id: x\n  type: Funding\n  funder: watsi\n  recipient: datakind\n  amount: -1\n"
                        "  currency: USD\n  sources:\n    - source: seed-ssir-collaboration\n      quote: DataKind\n",
                        "an amount must be one positive number"),
    "amount without currency": ("zz.yaml", "- id: x\n  type: Funding\n  funder: watsi\n  recipient: datakind\n"
                                "  amount: 10\n  sources:\n    - source: seed-ssir-collaboration\n"
                                "      quote: DataKind\n", "an amount needs a currency"),
    "unknown relationship type": ("zz.yaml", "- id: x\n  type: Mentorship\n", "unknown type 'Mentorship'"),
    "fact without source": ("zz.yaml", "- id: x\n  type: Support\n  supporter: watsi\n  supported: datakind\n",
                            "has no source"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_fails_cleanly_and_keeps_the_previous_build(case: str, project_copy: Path, seed_build: Path,
                                                             tmp_path: Path) -> None:
    import shutil
    out = tmp_path / "build"
    shutil.copytree(seed_build, out, symlinks=True)
    before = _digest(out)
    store_files = sorted(p.name for p in (out / "store").iterdir())
    name, text, message = BAD_INPUTS[case]
    (project_copy / "graph" / name).write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["build", "--project", str(project_copy), "--out", str(out), "-q",
                                       "--no-reasoner"])
    assert result.exit_code == 1
    assert message in result.output
    assert str(project_copy / "graph" / name) in result.output
    assert _digest(out) == before
    assert sorted(p.name for p in (out / "store").iterdir()) == store_files
    assert not leftovers(out)


@pytest.mark.parametrize("failing", ["write_rdf", "persist"])
def test_a_failure_while_the_store_is_written_leaves_no_build(failing: str, project_copy: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A new store assembled in memory is written to disk beside the RDF files: either failing fails
    the build, once the other has finished, and leaves no build and nothing half-written behind."""
    from d4d import pipeline

    out = tmp_path / "build"
    written = []
    real_persist = pipeline.persist

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError(f"{failing}: no space left on device")

    def persist(*args: object) -> object:
        written.append(True)
        return real_persist(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "persist", persist)
    monkeypatch.setattr(pipeline, failing, fail)
    with pytest.raises(OSError, match=f"{failing}: no space left"):
        build(project_copy, out=out, reasoner=False, extras=False)
    assert written == ([True] if failing == "write_rdf" else [])  # the store was being written beside
    assert not list(out.iterdir())  # no build, no half-written version
    monkeypatch.undo()
    build(project_copy, out=out, reasoner=False, extras=False)
    assert count_matches(open_store(out), f"<{ID['datakind']}> ?p ?o") > 0


def _jvms_under(folder: Path) -> list[int]:
    """Processes whose command line names ``folder`` (HermiT's JVM reads its input from there)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and str(folder) in (proc / "cmdline").read_bytes().decode("utf-8", "replace"):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads Linux's /proc")
def test_a_killed_build_leaves_all_old_or_all_new(project_copy: Path, tmp_path: Path) -> None:
    """A rebuild killed (SIGKILL) at several moments leaves build/ all old or all new, HermiT's JVM
    dies with it, and the next build removes what the killed ones left."""
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "build"
    facts = project_copy / "graph" / "organizations.yaml"
    texts = [facts.read_text(encoding="utf-8")]
    texts.append(texts[0].replace("name: Data-Pop Alliance\n", "name: Data-Pop Alliance (renamed)\n"))
    assert texts[1] != texts[0]
    command = [sys.executable, "-m", "d4d.cli", "build", "--project", str(project_copy), "--out", str(out),
               "-q", "--rdf-only"]

    def run(state: int, tmp: Path, kill_after: float | None = None) -> None:
        facts.write_text(texts[state], encoding="utf-8")
        tmp.mkdir()
        env = {**os.environ, "TMPDIR": str(tmp)}
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if kill_after is None:
            assert process.wait() == 0
            return
        time.sleep(kill_after)
        process.send_signal(signal.SIGKILL)
        process.wait()
        deadline = time.monotonic() + 5
        while _jvms_under(tmp) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _jvms_under(tmp), "HermiT's JVM outlived the build"

    # the Turtle of each state, from complete builds
    expected = []
    for state in (1, 0):
        run(state, tmp_path / f"tmp-full-{state}")
        expected.insert(0, (out / "ecosystem.ttl").read_bytes())
    assert expected[0] != expected[1]
    shown = 0
    for n, delay in enumerate((0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)):
        target = 1 - shown
        run(target, tmp_path / f"tmp-{n}", kill_after=delay)
        ttl = (out / "ecosystem.ttl").read_bytes()
        assert ttl in (expected[shown], expected[target]), f"killed after {delay} s: a mix"
        shown = expected.index(ttl)
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        store = ox.Store.read_only(str(out / "store"))
        assert count_matches(store, "?s ?p ?o") == manifest["triples"]  # the store of the same build
        del store
    run(1 - shown, tmp_path / "tmp-last")
    assert (out / "ecosystem.ttl").read_bytes() == expected[1 - shown]
    assert not leftovers(out)
