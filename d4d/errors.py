"""The few named errors the library raises.

Every error carries where the problem is (a file, a record or line) and what is wrong, so the
CLI can print one readable line and exit non-zero.
"""

from __future__ import annotations

from pathlib import Path


class D4DError(Exception):
    """Base class of every error d4d raises on purpose.

    Parameters
    ----------
    reason:
        What is wrong, in words.
    path:
        The file the problem is in, if any.
    record:
        The record, line or item within the file (``"line 12"``, ``"record 'rockefeller'"``).
    """

    def __init__(self, reason: str, *, path: str | Path | None = None, record: str | None = None) -> None:
        self.reason = reason
        self.path = str(path) if path is not None else None
        self.record = record
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = ", ".join(part for part in (self.path, self.record) if part)
        return f"{where}: {self.reason}" if where else self.reason


class FactError(D4DError):
    """A fact file cannot be read: syntax, unknown reference, duplicate id, bad value."""


class OntologyError(D4DError):
    """The ontology itself is malformed or lacks a declaration the pipeline needs."""


class ValidationError(D4DError):
    """The graph violates the SHACL shapes; ``violations`` lists each one."""

    def __init__(self, reason: str, *, violations: list[dict[str, str]] | None = None,
                 path: str | Path | None = None, record: str | None = None) -> None:
        self.violations = violations or []
        super().__init__(reason, path=path, record=record)


class ReasoningError(D4DError):
    """The reasoner found the ontology and facts inconsistent, or could not run."""


class QueryError(D4DError):
    """A SPARQL query is malformed, has a bad parameter, or failed on an endpoint."""


class SourceError(D4DError):
    """An imported source (IATI, 360Giving, spreadsheet, ...) has a record that cannot be read."""


class StoreError(D4DError):
    """The built store is missing or cannot be opened; run ``d4d build`` first."""
