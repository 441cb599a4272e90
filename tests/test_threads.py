"""Background work: the value or the error of a function run in a thread."""

from __future__ import annotations

import doctest
import threading

import pytest

import d4d.threads
from d4d.threads import Background


def test_the_function_runs_beside_the_caller() -> None:
    started = threading.Event()
    go_on = threading.Event()

    def work(x: int) -> tuple[int, str]:
        started.set()
        assert go_on.wait(10)  # the caller goes on while this waits
        return x * 2, threading.current_thread().name

    job = Background(work, 21, name="d4d-test")
    assert started.wait(10)
    go_on.set()
    assert job.result() == (42, "d4d-test")


def test_the_error_is_raised_where_the_result_is_asked_for() -> None:
    job = Background(int, "not a number", name="d4d-test")
    job.wait()  # waiting does not raise
    with pytest.raises(ValueError, match="not a number"):
        job.result()


def test_docstring_examples() -> None:
    result = doctest.testmod(d4d.threads)
    assert result.attempted > 0 and result.failed == 0
