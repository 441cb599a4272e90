"""The load stage: values typed as the ontology says; every kind of bad input named with file and record."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Literal
from rdflib.namespace import XSD

from d4d.errors import FactError
from d4d.load import load, parse_date
from d4d.vocab import D4D, ID


def test_seed_facts_load(root: Path) -> None:
    loaded = load(root / "ontology", root / "graph")
    graph = loaded.facts.graph
    funding = ID["funding-rockefeller-data-pop-alliance-seed"]
    assert graph.value(funding, D4D.amount).toPython() == 400000
    assert str(graph.value(funding, D4D.currency)) == "USD"
    assert graph.value(funding, D4D.funder) == ID["rockefeller-foundation"]
    origin = loaded.facts.origin(funding)
    assert origin is not None and origin.path.endswith("fundings.yaml") and origin.line == 3
    # a citation's origin is its record's
    assert loaded.facts.origin(ID["funding-rockefeller-data-pop-alliance-seed/citation/1"]) == origin


@pytest.mark.parametrize("value, datatype", [(2015, XSD.gYear), ("2015", XSD.gYear), ("2015-10", XSD.gYearMonth),
                                             ("2015-10-03", XSD.date)])
def test_dates(value: object, datatype: object) -> None:
    assert parse_date(value) == Literal(str(value), datatype=datatype)


@pytest.mark.parametrize("value", ["2015-02-30", "2015-13", "15 May 2015", "2015-1-3", True])
def test_impossible_dates_are_refused(value: object) -> None:
    with pytest.raises(ValueError):
        parse_date(value)


def _write(project: Path, name: str, text: str) -> Path:
    path = project / "graph" / name
    path.write_text(text, encoding="utf-8")
    return path


FUNDING = """
- id: bad-funding
  type: Funding
  funder: rockefeller-foundation
  recipient: data-pop-alliance
{extra}
  sources:
    - source: seed-datapop-website
      quote: Core seed funding ($400,000) was generously provided by The Rockefeller Foundation
"""


@pytest.mark.parametrize("text, message, line", [
    ("- id: x\n  type: Funding\n  funder: [a, b\n", "YAML syntax error", "line 4"),
    (FUNDING.format(extra="  recipient: nobody-at-all"), "duplicate key 'recipient'", "line 6"),
    (FUNDING.replace("data-pop-alliance", "no-such-actor").format(extra=""), "unknown reference 'no-such-actor'",
     "record 'bad-funding' (line 5)"),
    (FUNDING.format(extra="  date: 2015-02-30"), "is not a real date", "record 'bad-funding' (line 6)"),
    (FUNDING.format(extra="  date: 2015-13"), "has no month 13", "record 'bad-funding'"),
    (FUNDING.format(extra="  amount: lots"), "'lots' is not a number", "record 'bad-funding' (line 6)"),
    (FUNDING.format(extra="  amount: 10\n  currency: dollars"), "not an ISO 4217 currency", "record 'bad-funding'"),
    (FUNDING.format(extra="  fundr: x"), "unknown field 'fundr' for type Funding", "record 'bad-funding' (line 6)"),
    (FUNDING.replace("type: Funding", "type: Fundng").format(extra=""), "unknown type 'Fundng'", "record 'bad-funding'"),
    (FUNDING.replace("id: bad-funding", "id: Bad Funding").format(extra=""), "is not a slug", "line 2"),
    (FUNDING.replace("bad-funding", "data-pop-alliance").format(extra=""), "duplicate id 'data-pop-alliance'",
     "record 'data-pop-alliance' (line 2)"),
    (FUNDING.replace("seed-datapop-website", "no-such-doc").format(extra=""), "unknown source document 'no-such-doc'",
     "record 'bad-funding'"),
    (FUNDING.replace("seed-datapop-website", "rockefeller-foundation").format(extra=""), "is not a SourceDocument",
     "record 'bad-funding'"),
    (FUNDING.format(extra="  sector: humanitarian"), "unknown field 'sector'", "record 'bad-funding'"),
    ("- id: org-x\n  type: NGO\n  name: X\n  sector: [humanitarian, ethics]\n", "unknown sector 'ethics'", "record 'org-x'"),
    ("- id: org-y\n  type: NGO\n  name: Y\n  url: javascript:alert(1)\n", "not an http(s) URL", "record 'org-y'"),
    ("id: lone\ntype: NGO\n", "must be a YAML list of records", "line 1"),
])
def test_bad_input_names_file_record_and_reason(project_copy: Path, text: str, message: str, line: str) -> None:
    path = _write(project_copy, "zz-bad.yaml", text)
    with pytest.raises(FactError) as caught:
        load(project_copy / "ontology", project_copy / "graph")
    error = caught.value
    assert message in error.reason
    assert error.path == str(path)
    assert line in (error.record or "")
    assert str(path) in str(error)
