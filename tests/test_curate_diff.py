"""d4d diff: two git revisions (or build folders) compared record by record, and the measures that moved."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from d4d.cli import main
from d4d.curate.diff import Build, DiffError, Record, compare, diff, to_markdown, to_text

ROOT = Path(__file__).resolve().parents[1]

NEW_FUNDING = """
- id: funding-rockefeller-watsi
  type: Funding
  basis: stated
  funder: rockefeller-foundation
  recipient: watsi
  amount: 50000
  currency: USD
  sources:
    - source: seed-ssir-collaboration
      quote: Some nonprofits, like Crisis Text Line and Watsi
"""


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.email=test@localhost", "-c", "user.name=test", *args],
                   check=True, capture_output=True)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with two commits: the seed facts, then the seed funding's amount changed from
    400,000 to 500,000 and a new funding of 50,000 USD from the Rockefeller Foundation to Watsi."""
    repo = tmp_path_factory.mktemp("history") / "project"
    repo.mkdir()
    for name in ("ontology", "graph", "queries"):
        shutil.copytree(ROOT / name, repo / name)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "seed")
    fundings = repo / "graph" / "relationships" / "fundings.yaml"
    text = fundings.read_text(encoding="utf-8")
    assert text.count("amount: 400000\n") == 1
    fundings.write_text(text.replace("amount: 400000\n", "amount: 500000\n") + NEW_FUNDING, encoding="utf-8")
    _git(repo, "commit", "-qam", "a changed amount and a new funding")
    return repo


def test_revisions_show_the_changed_amount_and_the_measures_it_moved(history: Path) -> None:
    d = diff("HEAD~1", "HEAD", project=history)
    assert [(c.status, c.record.kind, c.record.id) for c in d.changes] == [
        ("changed", "tie", "funding-rockefeller-data-pop-alliance-seed"), ("added", "tie", "funding-rockefeller-watsi")]
    assert d.changes[0].fields == [("amount", ("400000",), ("500000",))]
    moved = {name: (old, new) for name, old, new in d.measures}
    # by hand: 500,000 + 50,000 USD of funding; one relationship more, and a pair of actors linked for
    # the first time (the Rockefeller Foundation and Watsi), so one tie more; no actor is new.
    assert moved["funding total (USD)"] == (400000.0, 550000.0)
    assert moved["relationships"][1] - moved["relationships"][0] == 1  # type: ignore[operator]
    assert moved["ties"][1] - moved["ties"][0] == 1  # type: ignore[operator]
    assert "actors" not in moved and "organizations" not in moved
    text = to_text(d)
    assert text.splitlines()[0] == "actors: no change; ties: 1 added, 1 changed; facts: no change"
    assert "~ tie funding-rockefeller-data-pop-alliance-seed (Funding, stated)" in text
    assert "    amount: 400000 -> 500000" in text
    assert "    funding total (USD): 400,000 -> 550,000 (+150,000)" in text


def test_build_folders_and_markdown_from_the_command_line(history: Path, tmp_path: Path) -> None:
    from d4d.pipeline import build

    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(history, old, ignore=shutil.ignore_patterns(".git"))
    (old / "graph" / "relationships" / "fundings.yaml").write_bytes(subprocess.run(
        ["git", "-C", str(history), "show", "HEAD~1:graph/relationships/fundings.yaml"],
        check=True, capture_output=True).stdout)
    build(old, out=old / "build", reasoner=False, extras=False)
    build(history, out=new / "build", reasoner=False, extras=False)
    result = CliRunner().invoke(main, ["diff", str(old / "build"), str(new / "build"), "--format", "markdown"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "| ✏️ | tie | `funding-rockefeller-data-pop-alliance-seed` | Funding | stated | amount | 400000 | 500000 |" \
        in lines
    assert any(line.startswith("| ➕ | tie | `funding-rockefeller-watsi` | Funding | stated |") for line in lines)
    # without metrics.json (no analysis) the funding totals are the only measures
    assert "| funding total (USD) | 400,000 | 550,000 | +150,000 |" in lines


def test_a_read_fact_shows_its_basis_and_each_field() -> None:
    def record(**fields: tuple[str, ...]) -> Record:
        return Record(id="membership-x", kind="tie", type="Membership", label="Membership: X → Y", fields=fields)

    old = Build(records={"membership-x": record(basis=("stated",), role=("role-author",))}, measures={"ties": 3})
    new = Build(records={"membership-x": record(basis=("read",), note=("Read from 'we'.",))}, measures={"ties": 3})
    d = compare(old, new)
    assert d.measures == []
    assert d.changes[0].fields == [("basis", ("stated",), ("read",)), ("note", (), ("Read from 'we'.",)),
                                   ("role", ("role-author",), ())]
    assert "~ tie membership-x (Membership, read)" in to_text(d)
    assert to_markdown(d).endswith("No headline measure moved.\n")


def test_neither_a_folder_nor_a_revision(history: Path) -> None:
    with pytest.raises(DiffError, match="neither a build folder nor a git revision"):
        diff("no-such-revision", "HEAD", project=history)
    result = CliRunner().invoke(main, ["diff", "no-such-revision", "HEAD", "--project", str(history)])
    assert result.exit_code == 1 and "neither a build folder nor a git revision" in result.output
