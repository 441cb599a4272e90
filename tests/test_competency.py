"""Competency questions written from the seeds (queries/competency/*.rq) give the expected answers,
including questions written with schema.org, W3C ORG and FOAF terms only."""

from __future__ import annotations

from pathlib import Path

import pytest

from d4d import sparql


def ask(store, root: Path, name: str, **params: str) -> list[tuple[str | None, ...]]:  # type: ignore[no-untyped-def]
    query = sparql.parse_query_text((root / "queries" / "competency" / f"{name}.rq").read_text(encoding="utf-8"),
                                    name=name)
    result = sparql.run_query(query, store=store, params=params)
    return [tuple(row.values()) for row in result.values()]


def names(rows: list[tuple[str | None, ...]], column: int) -> list[str | None]:
    return [row[column] for row in rows]


def test_who_founded_data_pop(seed_store, root: Path) -> None:  # type: ignore[no-untyped-def]
    assert sorted(names(ask(seed_store, root, "founders"), 1)) == sorted([
        "Harvard Humanitarian Initiative", "MIT Media Lab", "Overseas Development Institute", "Emmanuel Letouzé",
        "Claire Melamed", "Alex “Sandy” Pentland", "Phuong Pham", "Emma Samman", "Patrick Vinck"])


def test_who_funded_data_pop_and_how_much(seed_store, root: Path) -> None:  # type: ignore[no-untyped-def]
    rows = ask(seed_store, root, "funders")
    assert [(r[1], float(r[2] or 0), r[3]) for r in rows] == [("The Rockefeller Foundation", 400000.0, "USD")]
    assert "Core seed funding" in (rows[0][4] or "")


def test_who_incubates_data_pop_and_where(seed_store, root: Path) -> None:  # type: ignore[no-untyped-def]
    assert [(r[1], r[2]) for r in ask(seed_store, root, "incubators")] == [("ThoughtWorks NY", "New York City")]


def test_leaders_and_their_roles(seed_store, root: Path) -> None:  # type: ignore[no-untyped-def]
    rows = {(r[1], r[2]) for r in ask(seed_store, root, "leaders")}
    assert ("Emmanuel Letouzé", "Director") in rows and ("Emmanuel Letouzé", "Co-founder") in rows
    assert ("Alex “Sandy” Pentland", "Academic Director") in rows
    assert {n for n, role in rows if role == "Leadership"} == {
        "Emmanuel Letouzé", "Claire Melamed", "Alex “Sandy” Pentland", "Phuong Pham", "Emma Samman", "Patrick Vinck"}
    pentland = [r for r in ask(seed_store, root, "leaders") if r[2] == "Academic Director"][0]
    assert pentland[3] == "Academic Director for MIT Media Lab" and pentland[4] == "MIT Media Lab"


def test_other_organisations_are_parameters(seed_store, root: Path) -> None:  # type: ignore[no-untyped-def]
    rows = ask(seed_store, root, "leaders", org="d4did:uc-berkeley")
    assert [(r[1], r[2]) for r in rows] == [("Emmanuel Letouzé", "Demographer")]
    assert ask(seed_store, root, "funders", org="d4did:datakind") == []


def test_schema_org_only(seed_store, root: Path) -> None:  # type: ignore[no-untyped-def]
    assert ask(seed_store, root, "schema-funders") == [("Data-Pop Alliance", "The Rockefeller Foundation")]
    assert len(ask(seed_store, root, "schema-founders")) == 9
    assert ask(seed_store, root, "schema-parents") == [
        ("Harvard Humanitarian Initiative", "Harvard University"),
        ("Harvard T.H. Chan School of Public Health", "Harvard University"),
        ("Office of the Provost (Harvard University)", "Harvard University")]
    assert ask(seed_store, root, "schema-founding-dates") == [("MIT Media Lab", "1985"),
                                                              ("Harvard Humanitarian Initiative", "2005")]


def test_org_and_foaf_only(seed_store, root: Path) -> None:  # type: ignore[no-untyped-def]
    rows = ask(seed_store, root, "org-memberships")
    assert len(rows) == 11
    assert ("Emmanuel Letouzé", "UC Berkeley", "Demographer") in rows
    # read, not stated: the text names no position of Jake Porway's in DataKind, so no role
    assert ("Jake Porway", "DataKind", None) in rows
    assert len(ask(seed_store, root, "org-units")) == 3


def test_media_coverage_and_evidence(seed_store, root: Path) -> None:  # type: ignore[no-untyped-def]
    assert ask(seed_store, root, "media-coverage")[0] == (
        "The MasterCard Center for Inclusive Growth", "2015-07",
        "Democratizing Big Data Starts with Dialogue: Q&A with Emmanuel Letouzé")
    assert [r[1] for r in ask(seed_store, root, "media-coverage", actor="d4did:alex-pentland")] == ["2015-10"]
    evidence = ask(seed_store, root, "evidence")
    assert evidence == [("Data-Pop Alliance website: mission, press coverage, founding institutions, funders and "
                         "supporters", "Core seed funding ($400,000) was generously provided by The Rockefeller "
                         "Foundation in support of establishing Data-Pop Alliance")]


def test_activities_and_defined_classes(seed_store, root: Path) -> None:  # type: ignore[no-untyped-def]
    datakind = [r for r in ask(seed_store, root, "activities") if r[0] == "DataKind"]
    assert [(r[2], r[3], r[4]) for r in datakind] == [("more than", "200", "projects")]
    classes = ask(seed_store, root, "roles-by-class")
    assert ("Funder", "The Rockefeller Foundation") in classes
    assert ("Incubator", "ThoughtWorks NY") in classes
    assert len([r for r in classes if r[0] == "Founder"]) == 9


@pytest.mark.parametrize("path", sorted((Path(__file__).parents[1] / "queries" / "competency").glob("*.rq")),
                         ids=lambda p: p.stem)
def test_every_competency_question_has_a_header_and_an_answer(seed_store, path: Path) -> None:  # type: ignore[no-untyped-def]
    query = sparql.parse_query_text(path.read_text(encoding="utf-8"), name=path.stem, path=path)
    assert query.title
    assert sparql.run_query(query, store=seed_store).values()
