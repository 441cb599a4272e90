"""The validate stage: SHACL violations reported with file, record, field and rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from d4d.errors import ValidationError
from d4d.load import load
from d4d.validate import check, validate

QUOTE = """  sources:
    - source: seed-datapop-website
      quote: Core seed funding ($400,000) was generously provided by The Rockefeller Foundation
"""


def test_seed_facts_conform(root: Path) -> None:
    assert check(load(root / "ontology", root / "graph")) == []


@pytest.mark.parametrize("record, field, message", [
    ("- id: v1\n  type: Funding\n  funder: rockefeller-foundation\n  recipient: data-pop-alliance\n"
     "  amount: -5\n  currency: USD\n" + QUOTE, "amount", "an amount must be one positive number"),
    ("- id: v1\n  type: Funding\n  funder: rockefeller-foundation\n  recipient: data-pop-alliance\n"
     "  amount: 5\n" + QUOTE, None, "an amount needs a currency"),
    ("- id: v1\n  type: Funding\n  funder: rockefeller-foundation\n  recipient: data-pop-alliance\n",
     "citation", "has no source"),
    ("- id: v1\n  type: Funding\n  recipient: data-pop-alliance\n" + QUOTE, "funder", "a funding needs a funder"),
    ("- id: v1\n  type: Membership\n  member: emmanuel-letouze\n  organization: emma-samman\n" + QUOTE,
     "organization", "a membership names one organisation"),
    ("- id: v1\n  type: Incubation\n  incubator: thoughtworks-ny\n  incubated: data-pop-alliance\n"
     "  startDate: 2016\n  endDate: 2015-06\n" + QUOTE, None, "the end date is before the start date"),
    ("- id: v1\n  type: NGO\n  name: No Sector\n" + QUOTE, "sector", "one or more sectors"),
    ("- id: v1\n  type: Partnership\n  partner: datakind\n" + QUOTE, "partner", "two or more partners"),
])
def test_violation_is_located(project_copy: Path, record: str, field: str | None, message: str) -> None:
    path = project_copy / "graph" / "zz-bad.yaml"
    path.write_text(record, encoding="utf-8")
    loaded = load(project_copy / "ontology", project_copy / "graph")
    with pytest.raises(ValidationError) as caught:
        validate(loaded)
    error = caught.value
    assert error.path == str(path)
    assert error.record == "record 'v1' (line 1)"
    assert message in error.reason
    assert any(v["field"] == field and message in v["message"] for v in error.violations)


def test_a_sparql_rule_is_checked_on_each_record(project_copy: Path) -> None:
    """The rule's query is parsed once and run for every record: each record that breaks it is reported,
    and only those."""
    incubation = ("- id: {id}\n  type: Incubation\n  incubator: thoughtworks-ny\n  incubated: data-pop-alliance\n"
                  "  startDate: {start}\n  endDate: {end}\n" + QUOTE)
    path = project_copy / "graph" / "zz-dates.yaml"
    path.write_text("".join(incubation.format(id=i, start=s, end=e) for i, s, e in (
        ("v1", "2016", "2015-06"), ("v2", "2014", "2015"), ("v3", "2019-05-02", "2019-05-01"))), encoding="utf-8")
    violations = check(load(project_copy / "ontology", project_copy / "graph"))
    late = [v for v in violations if "the end date is before the start date" in v.message]
    assert [v.record.split("'")[1] for v in late if v.record] == ["v1", "v3"]
    assert all(v.path == str(path) for v in late)
