"""Fetch the data files the declared sources read: from their public address, or from a local mirror,
into the project's data folder, each checked against its SHA-256.

``imports.yaml`` lists, for each source, the files it reads (``files``: ``path`` below the data folder,
``url`` pinned to a commit where the file comes from a repository, ``sha256``). :func:`fetch` gets the
missing ones; a file already there is checked, never overwritten. A file whose bytes do not hash to the
declared SHA-256 is refused: nothing is written in its place, and the error names the file, where it
came from and both hashes. A download is written to ``<file>.part`` beside its place and renamed only
once its hash is right, so an interrupted fetch leaves no half file.

>>> from d4d.imports import DataFile
>>> target_of(DataFile("civic-graph-API/civic.json", "https://example.org/civic.json", "0" * 64), Path("data"))
PosixPath('data/civic-graph-API/civic.json')
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from d4d.errors import SourceError
from d4d.imports import DataFile, read_project

CHUNK = 1 << 20
"""Bytes read and hashed at a time."""
TIMEOUT = 60.0
"""Seconds a download may wait for the server before it fails."""

Progress = Callable[[DataFile, int, int | None], None]
"""Called with (file, bytes done, bytes in all or None) as a file is fetched."""


@dataclass(frozen=True)
class Fetched:
    """What :func:`fetch` did with one file: ``present`` (there, hash checked), ``downloaded`` or
    ``copied`` (from the mirror)."""

    file: DataFile
    target: Path
    action: str
    size: int


def target_of(file: DataFile, data: Path) -> Path:
    """Where a declared file lives in the data folder."""
    return data / file.path


def declared_files(project: str | Path = ".", *, sources: Sequence[str] = ()) -> tuple[Path, list[DataFile]]:
    """The data folder and the files the project's sources declare (those of ``sources``, or all), each
    once, in the order declared.

    Raises
    ------
    SourceError
        ``imports.yaml`` cannot be read, a source is not declared, or one path is declared with two hashes.
    """
    config = read_project(project)
    specs = [config.source(name) for name in sources] if sources else config.sources
    files: dict[str, DataFile] = {}
    for spec in specs:
        for file in spec.files:
            known = files.get(file.path)
            if known is not None and known.sha256 != file.sha256:
                raise SourceError(f"{file.path} is declared twice with different SHA-256", path=config.path,
                                  record=spec.name)
            files.setdefault(file.path, file)
    return config.data or Path(project) / "data", list(files.values())


def fetch(project: str | Path = ".", *, mirror: str | Path | None = None, sources: Sequence[str] = (),
          progress: Progress | None = None, timeout: float = TIMEOUT) -> list[Fetched]:
    """Get every declared file that is missing from the data folder and check every one.

    Parameters
    ----------
    project:
        The project folder (its ``imports.yaml``).
    mirror:
        A local folder with the same layout as the data folder (``../shared/data``): files are copied
        from it instead of downloaded.
    sources:
        Only the files of these sources (default: all declared sources, built or not).
    progress:
        Called as bytes arrive (see :data:`Progress`).
    timeout:
        Seconds a download may wait for the server.

    Returns
    -------
    list of Fetched
        One per declared file, in order.

    Raises
    ------
    SourceError
        A file's bytes (there, downloaded or in the mirror) do not hash to the declared SHA-256; a file
        cannot be downloaded or is not in the mirror. Files fetched before the error are kept (each was
        checked); the bad one is not written.
    """
    data, files = declared_files(project, sources=sources)
    done = []
    for file in files:
        target = target_of(file, data)
        if target.is_file():
            digest, size = _hash_file(target)
            if digest != file.sha256:
                raise SourceError(f"SHA-256 {digest} does not match the declared {file.sha256}: the file was "
                                  "changed; remove it to fetch it again", path=target)
            done.append(Fetched(file, target, "present", size))
            continue
        if mirror is not None:
            origin = Path(mirror) / file.path
            if not origin.is_file():
                raise SourceError(f"not in the mirror {mirror}", path=origin)
            with origin.open("rb") as handle:
                size = _write_checked(handle, target, file, origin.stat().st_size, str(origin), progress)
            done.append(Fetched(file, target, "copied", size))
            continue
        request = urllib.request.Request(file.url, headers={"User-Agent": "d4d-fetch"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                length = response.headers.get("Content-Length")
                size = _write_checked(response, target, file, int(length) if length and length.isdigit() else None,
                                      file.url, progress)
        except (urllib.error.URLError, OSError) as exc:
            reason = f"HTTP {exc.code} {exc.reason}" if isinstance(exc, urllib.error.HTTPError) \
                else getattr(exc, "reason", exc)
            raise SourceError(f"cannot download {file.url}: {reason}", path=target) from exc
        done.append(Fetched(file, target, "downloaded", size))
    return done


def _hash_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _write_checked(stream: BinaryIO, target: Path, file: DataFile, total: int | None, origin: str,
                   progress: Progress | None) -> int:
    """Copy ``stream`` to ``target`` through ``<target>.part``, renamed only if its SHA-256 is right."""
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    size = 0
    try:
        with part.open("wb") as out:
            while chunk := stream.read(CHUNK):
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
                if progress is not None:
                    progress(file, size, total)
        if progress is not None and size != total:
            progress(file, size, size)   # the end of a file whose length the server did not give
        if digest.hexdigest() != file.sha256:
            raise SourceError(f"{origin} has SHA-256 {digest.hexdigest()}, not the declared {file.sha256}: "
                              "refused (the file is not written)", path=target)
        os.replace(part, target)
    finally:
        if part.exists():
            part.unlink()
    return size
