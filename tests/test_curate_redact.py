"""d4d export --redact people: no person's name or id in any export format; each replaced by their role."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pyoxigraph as ox
import pytest
import yaml
from click.testing import CliRunner

from d4d.cli import main
from d4d.errors import QueryError
from d4d.export import FORMATS, export, read_network


def _people(root: Path) -> list[dict[str, object]]:
    return yaml.safe_load((root / "graph" / "people.yaml").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _family_names(root: Path) -> set[str]:
    """Each person's family name (the last word of their name), ASCII-folded as ids write them."""
    out = set()
    for person in _people(root):
        last = str(person["name"]).split()[-1]
        out.add(last.lower().replace("é", "e"))
    return out


def _text(data: bytes, fmt: str) -> str:
    if fmt == "csv":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "\n".join(archive.read(name).decode("utf-8") for name in sorted(archive.namelist()))
    return data.decode("utf-8")


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_person_is_named_in_any_format(seed_store: ox.Store, root: Path, fmt: str) -> None:
    plain = _text(export(seed_store, fmt), fmt).lower()
    text = _text(export(seed_store, fmt, redact="people"), fmt).lower()
    folded = text.replace("\\u00e9", "e").replace("&#233;", "e").replace("é", "e")
    names = _family_names(root)
    assert names == {"letouze", "pentland", "melamed", "pham", "samman", "vinck", "porway"}
    for name in names:
        assert re.search(rf"(?<![a-z]){name}", plain.replace("\\u00e9", "e").replace("é", "e")), name
        assert not re.search(rf"(?<![a-z]){name}", folded), f"{name} left in the {fmt} export"
    for person in _people(root):
        assert str(person["id"]) not in text


def test_each_person_becomes_their_role(seed_store: ox.Store) -> None:
    graph = read_network(export(seed_store, "nodelink", redact="people"), "nodelink")
    people = {n: d for n, d in graph.nodes(data=True) if d.get("actor_type") == "Person"}
    labels = sorted(d["label"] for d in people.values())
    # by hand from graph/relationships/memberships.yaml: Pentland is the academic director and one of the
    # leadership; Melamed, Pham, Samman and Vinck are the leadership; Porway's membership of DataKind
    # gives no role; Letouzé holds four roles in two organisations
    assert labels == [
        "Academic Director (Data-Pop Alliance); Leadership (Data-Pop Alliance)",
        "Co-founder (Data-Pop Alliance); Demographer (UC Berkeley); Director (Data-Pop Alliance); "
        "Leadership (Data-Pop Alliance)",
        "Leadership (Data-Pop Alliance)", "Leadership (Data-Pop Alliance)", "Leadership (Data-Pop Alliance)",
        "Leadership (Data-Pop Alliance)", "Member (DataKind)"]
    assert all(re.fullmatch(r"https://w3id.org/d4d/id/person-\d", n) for n in people)
    # the ties stay: seven people, as many edges to organisations as before
    plain = read_network(export(seed_store, "nodelink"), "nodelink")
    assert graph.number_of_edges() == plain.number_of_edges()
    assert graph.number_of_nodes() == plain.number_of_nodes()


def test_quotes_keep_their_words_but_the_names(seed_store: ox.Store) -> None:
    text = export(seed_store, "ntriples", redact="people").decode("utf-8")
    assert ('"according to [Co-founder (Data-Pop Alliance); Demographer (UC Berkeley); Director (Data-Pop Alliance); '
            'Leadership (Data-Pop Alliance)], director and co-founder of Data-Pop Alliance"') in text
    # a nickname in other quotation marks (‘Sandy’ in the launch post, “Sandy” in the name) is matched too
    assert "Sandy" not in text


def test_cli_and_unknown_redaction(seed_build: Path, seed_store: ox.Store, tmp_path: Path) -> None:
    out = tmp_path / "people-free.gexf"
    result = CliRunner().invoke(main, ["export", "-f", "gexf", "--redact", "people", "--store", str(seed_build),
                                       "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Letouz" not in out.read_text(encoding="utf-8")
    with pytest.raises(QueryError, match="unknown redaction"):
        export(seed_store, "turtle", redact="places")


def test_measures_are_redacted_with_the_graph(seed_build: Path, root: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    metrics = tmp_path / "metrics.json"
    analysed = runner.invoke(main, ["analyse", "--store", str(seed_build), "--ontology", str(root / "ontology"),
                                    "-o", str(metrics), "--no-by-year"])
    assert analysed.exit_code == 0, analysed.output
    assert "letouz" in metrics.read_text(encoding="utf-8").lower()
    for fmt in ("graphml", "gexf", "nodelink"):
        out = tmp_path / f"redacted.{fmt}"
        result = runner.invoke(main, ["export", "-f", fmt, "--redact", "people", "--store", str(seed_build),
                                      "--metrics", str(metrics), "-o", str(out)])
        assert result.exit_code == 0, result.output
        text = out.read_text(encoding="utf-8").lower().replace("\\u00e9", "e").replace("é", "e")
        assert not [name for name in _family_names(root) if re.search(rf"(?<![a-z]){name}", text)], fmt
    graph = read_network((tmp_path / "redacted.nodelink").read_bytes(), "nodelink")
    person = graph.nodes["https://w3id.org/d4d/id/person-1"]
    assert "degree" in person or "betweenness" in person  # the person's measures follow their new id
