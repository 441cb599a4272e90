"""Recall and precision of ``d4d extract`` on the seed documents against the curated facts.

Usage: ``python bench/bench_extract.py [--project .] [--shared ../shared]``

For each seed document (the SourceDocument records of graph/ with a localFile), the extracted
candidate facts are compared with the curated facts that cite the document, tie by tie: a founding,
funding, incubation, support or partnership counts once per pair of actors it links, a membership
once per (member, organisation, role) (:func:`d4d.curate.extract.units`). Two gazetteers:

- ``warm``: every name the graph knows (how ``d4d extract`` runs on a new document of the field);
- ``cold``: without the actors, places and roles that only this document cites, so each must be found
  by the patterns; a new actor counts as found when its name is a name the curated record has.

Prints one line per document and gazetteer, the totals, and the curated ties missed.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from d4d.curate import snapshot  # noqa: E402
from d4d.curate.extract import Score, extract, gazetteer_from_graph, graph_facts, score  # noqa: E402
from d4d.load import fact_files  # noqa: E402


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def seed_documents(project: Path) -> dict[str, str]:
    """SourceDocument id -> localFile, from the fact files."""
    out = {}
    for path in fact_files(project / "graph"):
        for record in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            if record.get("type") == "SourceDocument" and record.get("localFile"):
                out[record["id"]] = record["localFile"]
    return out


def cited_only_by(project: Path, source: str) -> set[str]:
    """Ids of the actors, places and roles whose every citation is of ``source``."""
    out = set()
    for path in fact_files(project / "graph"):
        for record in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            cited = {c.get("source") for c in record.get("sources", [])}
            if cited == {source} and record.get("type") not in ("SourceDocument",) and "name" in record:
                out.add(record["id"])
    return out


def run(project: Path, shared: Path) -> dict[str, dict[str, Score]]:
    """Scores by gazetteer ('warm', 'cold') and document id."""
    keys, sources, ids, by_source = graph_facts(project)
    warm = gazetteer_from_graph(project)
    by_name = {_norm(name).lower(): actor.id for name, actor in warm.names.items()}
    results: dict[str, dict[str, Score]] = {"warm": {}, "cold": {}}
    for source, local in sorted(seed_documents(project).items()):
        snap = snapshot.read(shared / local)
        curated = by_source.get(source, [])
        for mode in ("warm", "cold"):
            gazetteer = warm if mode == "warm" else gazetteer_from_graph(project, leave_out=cited_only_by(project, source))
            draft = extract(snap, gazetteer, source_id=source, existing=keys, taken=ids)
            text = _norm(snap.text)
            assert all(_norm(q) in text for c in draft.candidates for q in c.quotes), "a quote is not verbatim"
            same = {a["id"]: by_name.get(_norm(a["name"]).lower(), a["id"]) for a in draft.actors}
            # a new actor's proposed id is what the draft's facts use once renamed; map both
            same.update({a.id: by_name.get(_norm(a.name).lower(), a.id)
                         for s in gazetteer.reader().sentences(snap.text) for a in (m.actor for m in s.mentions)
                         if a.new})
            results[mode][source] = score(draft.candidates, curated, same=same)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=ROOT)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    args = parser.parse_args()
    start = time.perf_counter()
    results = run(args.project, args.shared)
    seconds = time.perf_counter() - start
    print(f"{'gazetteer':9} {'document':28} {'curated':>7} {'extracted':>9} {'matched':>7} {'recall':>6} "
          f"{'precision':>9} {'stated recall':>13}")
    for mode, scores in results.items():
        for source, s in scores.items():
            print(f"{mode:9} {source:28} {s.curated:7} {s.extracted:9} {s.matched:7} {s.recall:6.2f} "
                  f"{s.precision:9.2f} {s.stated_matched:6}/{s.stated_curated:<6}")
        curated = sum(s.curated for s in scores.values())
        extracted = sum(s.extracted for s in scores.values())
        matched = sum(s.matched for s in scores.values())
        stated = sum(s.stated_curated for s in scores.values())
        stated_matched = sum(s.stated_matched for s in scores.values())
        print(f"{mode:9} {'all seeds':28} {curated:7} {extracted:9} {matched:7} {matched / curated:6.2f} "
              f"{matched / extracted if extracted else 1:9.2f} {stated_matched:6}/{stated:<6}")
    for mode, scores in results.items():
        for source, s in scores.items():
            for tie in s.missed:
                print(f"missed ({mode}, {source}): {' '.join(t for t in tie if t)}")
            for tie in s.extra:
                print(f"not curated ({mode}, {source}): {' '.join(t for t in tie if t)}")
    print(f"time: {seconds:.1f} s for {len(results['warm'])} documents, both gazetteers")


if __name__ == "__main__":
    main()
