"""Source documents as snapshots: a document's bytes (a kept file or a fetched URL), their SHA-256,
and the text its quotes are read from (plain text, HTML or PDF).

The hash is taken over the document's bytes as they were read, so a fetched copy is checked against
the hash the fact files record before any quote is checked against its text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from d4d.errors import SourceError

FETCH_TIMEOUT = 30.0
"""Seconds a document's server may take to answer."""

_BLOCKS = {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "section",
           "article", "header", "footer", "blockquote", "pre", "dd", "dt", "title", "figcaption", "hr"}


@dataclass(frozen=True)
class Snapshot:
    """A document as read: where from, when, the SHA-256 of its bytes and its text."""

    location: str
    sha256: str
    text: str
    retrieved: str | None = None


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of ``data`` as 64 lower-case hex digits."""
    return hashlib.sha256(data).hexdigest()


def is_url(location: str) -> bool:
    """True if ``location`` is an http(s) URL rather than a file path."""
    return re.match(r"^https?://", location, re.IGNORECASE) is not None


def text_of(data: bytes, *, name: str, media_type: str | None = None) -> str:
    """The text of a document: PDF (pypdf), HTML (lxml; one line per block element) or UTF-8 text.

    The kind is told by the media type, else by the name's extension, else by the bytes (``%PDF``,
    an ``<html`` tag).

    Raises
    ------
    SourceError
        The document cannot be read as that kind (a broken PDF, text that is not UTF-8).
    """
    kind = (media_type or "").split(";")[0].strip().lower()
    suffix = Path(name.split("?")[0]).suffix.lower()
    head = data[:1024].lstrip().lower()
    if kind == "application/pdf" or suffix == ".pdf" or head.startswith(b"%pdf"):
        return _pdf_text(data, name=name)
    if kind in ("text/html", "application/xhtml+xml") or suffix in (".html", ".htm", ".xhtml") \
            or head.startswith((b"<!doctype html", b"<html")):
        return _html_text(data, name=name)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"not UTF-8 text ({exc})", path=name) from exc


def _pdf_text(data: bytes, *, name: str) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        return "\n\n".join(page.extract_text() or "" for page in reader.pages)
    except (PdfReadError, ValueError, KeyError) as exc:
        raise SourceError(f"cannot read the PDF: {exc}", path=name) from exc


def _html_text(data: bytes, *, name: str) -> str:
    import lxml.etree
    import lxml.html

    try:
        root = lxml.html.document_fromstring(data)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise SourceError(f"cannot read the HTML: {exc}", path=name) from exc
    for bad in root.xpath("//script|//style|//noscript|//template"):
        bad.drop_tree()
    parts: list[str] = []

    def walk(element: lxml.html.HtmlElement) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        block = tag.lower() in _BLOCKS
        if block:
            parts.append("\n")
        if element.text and tag:
            parts.append(element.text)
        for child in element:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if block:
            parts.append("\n")

    walk(root)
    lines = (re.sub(r"[ \t\r\f\v\xa0]+", " ", line).strip() for line in "".join(parts).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def fetch(url: str, *, sha256: str | None = None, cache: Path | None = None,
          timeout: float = FETCH_TIMEOUT) -> tuple[bytes, str | None]:
    """The bytes of ``url`` and their media type, checked against ``sha256`` when it is given.

    A copy already in ``cache`` (a folder of files named by their SHA-256) is used instead of the
    network; a fetched copy whose hash is known is kept there.

    Raises
    ------
    SourceError
        The URL cannot be fetched, or its bytes do not have the expected SHA-256.
    """
    if sha256 and cache is not None and (cache / sha256).is_file():
        return (cache / sha256).read_bytes(), None
    request = urllib.request.Request(url, headers={"User-Agent": "d4d (source snapshot)"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) only
            data = response.read()
            media_type = response.headers.get("Content-Type")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise SourceError(f"cannot fetch {url}: {exc}") from exc
    digest = sha256_hex(data)
    if sha256 and digest != sha256:
        raise SourceError(f"{url} has changed: its SHA-256 is {digest}, the snapshot's is {sha256}")
    if sha256 and cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        tmp = cache / f".{digest}.part"
        tmp.write_bytes(data)
        tmp.replace(cache / digest)
    return data, media_type


def read(location: str | Path, *, sha256: str | None = None, cache: Path | None = None,
         today: dt.date | None = None) -> Snapshot:
    """Read a document (a file path or an http(s) URL) as a :class:`Snapshot`.

    Raises
    ------
    SourceError
        The file or URL cannot be read, or its SHA-256 differs from ``sha256``.
    """
    name = str(location)
    if is_url(name):
        data, media_type = fetch(name, sha256=sha256, cache=cache)
        retrieved: str | None = (today or dt.datetime.now(dt.timezone.utc).date()).isoformat()
    else:
        path = Path(name)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SourceError(f"cannot read the document: {exc.strerror}", path=path) from exc
        media_type, retrieved = None, None
        if sha256 and sha256_hex(data) != sha256:
            raise SourceError(f"the file has changed: its SHA-256 is {sha256_hex(data)}, the snapshot's is {sha256}",
                              path=path)
    return Snapshot(location=name, sha256=sha256_hex(data), text=text_of(data, name=name, media_type=media_type),
                    retrieved=retrieved)
