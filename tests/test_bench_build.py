"""The build benchmark's own checks: a failing step stops the run with its error, never a timing."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import bench_build  # noqa: E402


def test_a_step_that_succeeds_is_returned() -> None:
    result: dict[str, object] = {"status": 0, "output": "ok\n", "seconds": 1.0}
    assert bench_build.check(result, "the raw bulk_load", 10_000) is result


def test_a_failed_raw_load_stops_the_run_naming_the_step_and_its_error(tmp_path: Path) -> None:
    ntriples = tmp_path / "result.nt"
    ntriples.write_text("<http://example.org/a> <http://example.org/b> <http://example.org/c> .\n")
    # the store's folder cannot be made: a file of that name is in the way (as a full disk refuses it)
    blocker = tmp_path / "no-room"
    blocker.write_text("")
    result = bench_build.raw_bulk_load(ntriples, blocker / "raw-store")
    with pytest.raises(bench_build.StepFailed) as raised:
        bench_build.check(result, "the raw bulk_load", 1_000_000)
    message = str(raised.value)
    assert "the raw bulk_load of 1,000,000 transactions failed (exit status 1)" in message
    assert "Error" in message.splitlines()[-1]
    assert raised.value.code == message  # SystemExit: printed, and the exit status is 1


def test_a_stopped_rdflib_pipeline_is_a_result_not_a_failure() -> None:
    result: dict[str, object] = {"status": -9, "output": "", "seconds": 1800.0, "timed_out": True}
    assert bench_build.check(result, "the rdflib pipeline", 100_000) is result


def test_the_baselines_are_not_started_without_room_for_them(tmp_path: Path) -> None:
    free = shutil.disk_usage(tmp_path).free
    bench_build.check_space(tmp_path, 1000, 10_000)  # 400 kB
    too_many = free // bench_build.NT_BYTES_PER_TRIPLE  # twice the room there is
    with pytest.raises(bench_build.StepFailed, match=rf"need about \d+ GB free in {tmp_path}"):
        bench_build.check_space(tmp_path, too_many, 1_000_000)


def test_the_built_store_is_compacted_before_its_dump_and_keeps_every_triple(tmp_path: Path) -> None:
    import pyoxigraph as ox

    build_dir = tmp_path / "build"
    build_dir.mkdir()
    store = ox.Store(str(build_dir / "store"))
    for k in range(3):  # three loads, three sets of files to merge
        store.bulk_load(input=f"<http://example.org/s{k}> <http://example.org/p> \"{k}\" .\n".encode(),
                        format=ox.RdfFormat.N_TRIPLES)
    del store
    bench_build.check(bench_build.compact(build_dir), "the compaction", 1)
    bench_build.check(bench_build.result_ntriples(build_dir, tmp_path / "result.nt"), "the dump", 1)
    assert sorted((tmp_path / "result.nt").read_text().splitlines()) == [
        f'<http://example.org/s{k}> <http://example.org/p> "{k}" .' for k in range(3)]
