"""d4d lint: each defect caught with its file, line and column; the curated graph is clean."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from d4d.cli import main
from d4d.curate.lint import Finding, lint

SHARED = Path(__file__).resolve().parents[2] / "shared"


def found(project: Path, shared: Path, **options: object) -> set[tuple[str, int, int, str]]:
    return {(Path(p.path).name, p.line, p.col, p.code) for p in lint(project, shared=shared, **options)}  # type: ignore[arg-type]


def test_the_curated_graph_is_clean_and_fast(root: Path, shared: Path) -> None:
    lint(root, shared=shared)  # warm the imports (a pre-commit hook pays them once too)
    # CPU time: the suite shares two cores with other work, which stretches wall time but not this
    start = time.process_time()
    problems = lint(root, shared=shared)
    seconds = time.process_time() - start
    assert problems == []
    assert seconds < 2.0


# Each defect of the issue, in a file of its own whose lines are counted by hand.
EXTRA = """\
- id: bad-person
  type: Person
  basis: stated
  name: Jane Roe
  description: Call her on (212) 555-0199 or write to jane.roe@example.org
  sources:
    - source: seed-datapop-website
      quote: Data-Pop Alliance is a global coalition
- id: funding-bad
  type: Funding
  basis: stated
  funder: rockefeller-foundation
  recipient: data-pop-alliance
  amount: 400000
  currency: GPB
  date: 2015-02-30
  sources:
    - source: seed-datapop-website
      quote: Core seed funding ($400,000) was generously provided by The Ford Foundation
- id: org-without-sector
  type: NGO
  basis: stated
  name: No Sector
  sources:
    - source: seed-datapop-website
      quote: Funders & Supporters
- id: support-heading
  type: Support
  supporter: rockefeller-foundation
  supported: nobody-known
  sources:
    - source: seed-datapop-website
      quote: Funders & Supporters
- id: Bad_Id
  type: Support
  basis: read
  supporter: rockefeller-foundation
  supported: data-pop-alliance
  sources:
    - source: seed-datapop-website
      quote: "Funders & Supporters\\n\\n  • Connector."
"""


def test_each_defect_is_caught_with_its_line(project_copy: Path, shared: Path) -> None:
    (project_copy / "graph" / "extra.yaml").write_text(EXTRA, encoding="utf-8")
    problems = found(project_copy, shared)
    expected = {
        ("extra.yaml", 2, 3, "D201"),    # a person with no membership or authorship
        ("extra.yaml", 5, 16, "D202"),   # a phone number and an e-mail in the description
        ("extra.yaml", 15, 13, "D401"),  # GPB is not ISO 4217
        ("extra.yaml", 16, 9, "D403"),   # there is no 30 February
        ("extra.yaml", 19, 14, "D101"),  # the quote was changed: The Ford Foundation
        ("extra.yaml", 21, 3, "D301"),   # an organisation with no sector
        ("extra.yaml", 26, 14, "D104"),  # org-without-sector's only quote is a heading
        ("extra.yaml", 28, 3, "D105"),   # support-heading says no basis
        ("extra.yaml", 30, 14, "D502"),  # nobody-known is no record
        ("extra.yaml", 33, 14, "D104"),  # support-heading's only quote is a heading
        ("extra.yaml", 34, 7, "D501"),   # Bad_Id is not a slug
    }
    assert expected <= problems
    # a read fact without a note would be D106; Bad_Id is skipped as a record (its id is unusable)
    assert {p for p in problems if p[0] != "extra.yaml"} == set()
    # contact data: one problem per finding, both named
    messages = [p.message for p in lint(project_copy, shared=shared) if p.code == "D202"]
    assert any("(212) 555-0199" in m for m in messages) and any("jane.roe@example.org" in m for m in messages)


def test_a_read_fact_needs_a_note(project_copy: Path, shared: Path) -> None:
    path = project_copy / "graph" / "relationships" / "supports.yaml"
    text = path.read_text(encoding="utf-8")
    cut = text.index("  note: >-\n    The participation of faculty")
    end = text.index("  sources:", cut)
    path.write_text(text[:cut] + text[end:], encoding="utf-8")
    line = text[:cut].count("\n")  # the basis line is the one before the note
    assert found(project_copy, shared) == {("supports.yaml", line, 3, "D106")}


def test_a_changed_source_text_is_caught_by_its_hash(project_copy: Path, tmp_path: Path) -> None:
    copy = tmp_path / "shared-copy"
    (copy / "seeds").mkdir(parents=True)
    for seed in (SHARED / "seeds").glob("*.txt"):
        (copy / "seeds" / seed.name).write_bytes(seed.read_bytes())
    seed = copy / "seeds" / "002_bf8f84a71b0d6b1b.txt"
    seed.write_text(seed.read_text(encoding="utf-8").replace("DataKind", "DataKin"), encoding="utf-8")
    problems = lint(project_copy, shared=copy)
    assert [(Path(p.path).name, p.code) for p in problems] == [("sources.yaml", "D102")]
    assert "has changed" in problems[0].message


def test_a_source_kept_by_url_is_fetched_and_checked(project_copy: Path, shared: Path,
                                                      document_server: tuple[str, Path], tmp_path: Path) -> None:
    base, folder = document_server
    page = b"<html><body><h1>Annual report</h1><p>The Ford Foundation gave Watsi a grant.</p></body></html>"
    (folder / "report.html").write_bytes(page)
    digest = hashlib.sha256(page).hexdigest()
    (project_copy / "graph" / "web.yaml").write_text(f"""\
- id: web-report
  type: SourceDocument
  title: Annual report
  fromSeeds: false
  url: {base}/report.html
  sha256: {digest}
- id: ford-foundation
  type: Foundation
  basis: stated
  name: The Ford Foundation
  sector: [philanthropy]
  sources:
    - source: web-report
      quote: The Ford Foundation gave Watsi a grant.
- id: funding-ford-watsi
  type: Funding
  basis: stated
  funder: ford-foundation
  recipient: watsi
  sources:
    - source: web-report
      quote: The Ford Foundation gave Watsi a grant
    - source: web-report
      quote: The Ford Foundation gave DataKind a grant.
""", encoding="utf-8")
    cache = tmp_path / "cache"
    assert found(project_copy, shared, cache=cache) == {("web.yaml", 24, 14, "D101")}
    assert (cache / digest).read_bytes() == page  # kept by its hash: the next lint reads it offline
    (folder / "report.html").write_bytes(page.replace(b"Watsi", b"Wats"))
    assert found(project_copy, shared, cache=tmp_path / "empty") == {("web.yaml", 5, 8, "D102")}


def test_cli_prints_linter_lines_and_exits_non_zero(project_copy: Path, shared: Path) -> None:
    runner = CliRunner()
    clean = runner.invoke(main, ["lint", "--project", str(project_copy), "--shared", str(shared)])
    assert clean.exit_code == 0 and clean.output == ""
    (project_copy / "graph" / "extra.yaml").write_text(EXTRA, encoding="utf-8")
    result = runner.invoke(main, ["lint", "--project", str(project_copy), "--shared", str(shared)])
    assert result.exit_code == 1
    first = result.stdout.splitlines()[0]
    assert first == str(Finding(str(project_copy / "graph" / "extra.yaml"), 2, 3, "D201",
                                "person 'bad-person' has no public role: name them only through a membership "
                                "in an organisation or the authorship of a published document that a source "
                                "states"))
    assert "problems (" in result.stderr
