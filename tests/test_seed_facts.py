"""The seed documents are captured completely, every fact with the exact quote that supports it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rdflib import Graph

from d4d.load import load
from d4d.vocab import D4D


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def facts(root: Path) -> Graph:
    return load(root / "ontology", root / "graph").facts.graph


def test_every_quote_is_in_its_seed_document(facts: Graph, shared: Path) -> None:
    checked = 0
    for citation in facts.subjects(D4D.quote, None):
        doc = facts.value(citation, D4D.citedSource)
        if str(facts.value(doc, D4D.fromSeeds)) != "true":
            continue
        text = _norm((shared / str(facts.value(doc, D4D.localFile))).read_text(encoding="utf-8"))
        quote = _norm(str(facts.value(citation, D4D.quote)))
        assert quote in text, f"{citation}: {quote!r} is not in {doc}"
        checked += 1
    assert checked >= 80


def test_every_seed_document_is_a_source(facts: Graph, shared: Path) -> None:
    files = {str(facts.value(doc, D4D.localFile)) for doc in facts.subjects(D4D.fromSeeds, None)}
    assert files == {f"seeds/{p.name}" for p in (shared / "seeds").glob("*.txt")}


# What the seeds say, listed by hand from the three documents: (subject, property, object).
SEED_FACTS = [
    ("founding-data-pop-alliance-institutions", "founder", "harvard-humanitarian-initiative"),
    ("founding-data-pop-alliance-institutions", "founder", "mit-media-lab"),
    ("founding-data-pop-alliance-institutions", "founder", "overseas-development-institute"),
    ("founding-data-pop-alliance-letouze", "founder", "emmanuel-letouze"),
    ("funding-rockefeller-data-pop-alliance-seed", "funder", "rockefeller-foundation"),
    ("incubation-thoughtworks-data-pop-alliance", "incubator", "thoughtworks-ny"),
    ("incubation-thoughtworks-data-pop-alliance", "location", "new-york-city"),
    ("membership-pentland-data-pop-academic-director", "onBehalfOf", "mit-media-lab"),
    ("membership-letouze-uc-berkeley-demographer", "organization", "uc-berkeley"),
    ("suborganization-hhi-harvard", "parent", "harvard-university"),
    ("support-provost-hhi", "supporter", "harvard-office-of-the-provost"),
    ("support-chan-school-hhi", "supporter", "harvard-chan-school-of-public-health"),
    ("coverage-wired-2015-pentland", "outlet", "wired"),
    ("coverage-mastercard-2015-letouze", "outlet", "mastercard-center-for-inclusive-growth"),
    ("coverage-devex-2015-letouze", "outlet", "devex"),
    ("coverage-kdnuggets-2015-letouze", "outlet", "kdnuggets"),
    ("coverage-berkeley-social-matrix-2015-letouze", "outlet", "berkeley-social-matrix"),
    ("coverage-ssir-porway-collaboration", "subject", "datakind"),
    ("activity-datakind-projects", "performer", "datakind"),
    ("activity-crisis-text-line-data-team", "performer", "crisis-text-line"),
    ("activity-watsi-data-team", "performer", "watsi"),
    ("overseas-development-institute", "location", "united-kingdom"),
]


@pytest.mark.parametrize("subject, prop, obj", SEED_FACTS)
def test_seed_fact_is_in_the_graph_with_a_quote(facts: Graph, subject: str, prop: str, obj: str) -> None:
    from d4d.vocab import ID
    assert (ID[subject], D4D[prop], ID[obj]) in facts
    assert list(facts.objects(ID[subject], D4D.citation)), f"{subject} has no citation"


def test_amounts_dates_and_people(facts: Graph) -> None:
    from d4d.vocab import ID
    funding = ID["funding-rockefeller-data-pop-alliance-seed"]
    assert facts.value(funding, D4D.amount).toPython() == 400000
    assert str(facts.value(ID["founding-mit-media-lab"], D4D.date)) == "1985"
    assert str(facts.value(ID["founding-harvard-humanitarian-initiative"], D4D.date)) == "2005"
    assert str(facts.value(ID["coverage-wired-2015-pentland"], D4D.date)) == "2015-10"
    assert facts.value(ID["activity-datakind-projects"], D4D.count).toPython() == 200
    people = {str(facts.value(p, D4D.name)) for p in facts.subjects(None, D4D.Person)}
    assert people == {"Emmanuel Letouzé", "Alex “Sandy” Pentland", "Claire Melamed", "Phuong Pham", "Emma Samman",
                      "Patrick Vinck", "Jake Porway"}


def test_seed_sources_are_marked_and_cited(facts: Graph) -> None:
    from d4d.vocab import ID
    doc = ID["seed-datapop-launch-post"]
    assert str(facts.value(doc, D4D.title)).startswith("Why we created the Data-Pop Alliance")
    assert len(list(facts.objects(doc, D4D.author))) == 6
