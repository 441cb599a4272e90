"""Work run in a thread of its own, beside the build: pyoxigraph's bulk loads and HermiT's JVM leave
Python's lock free, so the two cores both work."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Background(Generic[T]):
    """``function(*args)`` run in a thread; :meth:`result` waits for it and gives what it returned, or
    raises what it raised.

    >>> Background(sum, [1, 2, 3], name="d4d-sum").result()
    6
    """

    def __init__(self, function: Callable[..., T], *args: Any, name: str) -> None:
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(function, args), name=name, daemon=True)
        self._thread.start()

    def _run(self, function: Callable[..., T], args: tuple[Any, ...]) -> None:
        try:
            self._value = function(*args)
        except BaseException as exc:  # raised again by result(), in the thread that waits
            self._error = exc

    def wait(self) -> None:
        """Wait for the thread to end, ignoring its error (when another error is the one to report)."""
        self._thread.join()

    def result(self) -> T:
        """Wait for the thread to end; what the function returned, or raise what it raised."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]


__all__ = ["Background"]
