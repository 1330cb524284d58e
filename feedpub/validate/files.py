"""Files and folders: tell each file's format, run its checks, and summarise.

A file that should be a feed (*.xml, *.rss, *.atom, *.json) is always checked
or reported: one whose format cannot be identified (Atom 0.3, an Atom root
outside the Atom namespace, RSS 1.0, a JSON file that names no JSON Feed
version) is an error, never a silent skip, and so is a folder that cannot be
listed or a feed-named entry that cannot be read: a folder is never "0 with
errors" because of a file nobody looked at.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from lxml import etree

from ..opener import FEED, describe, problem, read_file
from .atom import check_atom, check_atom_entry_document
from .common import ATOM_NS
from .jsonfeed import check_jsonfeed
from .report import ERROR, FileResult, Finding, Offset, Report, quote
from .rss import check_rss
from .xml import parse_xml

__all__ = ["FEED_SUFFIXES", "Entry", "format_results", "read_feed", "validate_bytes", "validate_output", "walk"]

FEED_SUFFIXES = (".xml", ".rss", ".atom", ".json")
_OBSOLETE_ATOM = {"http://purl.org/atom/ns#": "Atom 0.3", "http://purl.org/echo/ns#": "Echo (pre-Atom)"}
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_EXPECTED = '(expected RSS 2.0 <rss version="2.0"> or Atom 1.0 <feed xmlns="http://www.w3.org/2005/Atom">)'


def validate_output(out_dir: Path, *, expect_offset: str | None = None, spec_only: bool = False) -> list[FileResult]:
    """Check every feed file under out_dir; one FileResult per visible file, sorted by path.

    *.xml, *.rss and *.atom files are checked as RSS or Atom (by their root element), *.json files
    as JSON Feed. Anything else (index.html, feed.css, feeds.opml, ...) is listed with kind
    "skipped"; hidden files and directories (.feedpub/, .feedpub.lock) are not listed at all. A
    folder that cannot be listed, or a feed file that cannot be read or is no regular file, is an
    error: the feeds it may hold were not checked. A missing directory, or one without any feed,
    gives a single result with an error.
    expect_offset is like "+07:00" (ValueError if malformed); spec_only leaves out feedpub's own
    rules, for feeds feedpub did not write.
    """
    offset = Offset.parse(expect_offset) if expect_offset is not None else None
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return [FileResult(str(out_dir), "skipped", [Finding(
            str(out_dir), ERROR, "is not a directory (expected the output directory holding the feeds)")])]
    results = []
    for entry in walk(out_dir):
        name = entry.name
        if entry.problem is not None:
            results.append(FileResult(name, "unknown", [Finding(name, ERROR, entry.problem)]))
        elif entry.path.suffix.lower() not in FEED_SUFFIXES:
            results.append(FileResult(name, "skipped", []))
        else:
            try:
                data = read_feed(entry.path)
            except OSError as exc:
                results.append(FileResult(name, "unknown", [Finding(name, ERROR, problem(FEED, exc))]))
                continue
            results.append(_validate(data, name, offset, spec_only))
    if not any(r.kind != "skipped" for r in results):
        results.append(FileResult(".", "skipped", [Finding(
            ".", ERROR, f"no feed files under {out_dir} (expected */rss.xml, */atom.xml, */feed.json)")]))
    return results


def read_feed(path: Path) -> bytes:
    """The bytes of one feed file: the only place `feedpub validate` reads a file (through the opener,
    so a FIFO or a device named *.xml is an error, not a hang, and a huge file is refused)."""
    return read_file(path, cap=FEED.cap)


@dataclass(frozen=True)
class Entry:
    """One visible name under OUT: a file to look at, or (problem set) a name that cannot be checked."""

    name: str                   # relative to OUT, with forward slashes; a folder's ends with "/"
    path: Path
    problem: str | None = None


def walk(root: Path) -> list[Entry]:
    """Every visible file under root, sorted by path, and every name that hides feeds from the check.

    Hidden names (a part starting with ".") are left out, folder and all. A folder that cannot be
    listed is an Entry with its problem, never a silent gap; so is a feed-named entry that is not a
    regular file (a FIFO would block the read, a link to nothing has no bytes). A linked folder is
    followed once: a link back up the tree is not walked again.
    """
    found: list[tuple[tuple[str, ...], Entry]] = []
    seen: set[tuple[int, int]] = set()

    def visit(folder: Path, parts: tuple[str, ...]) -> None:
        try:
            info = folder.stat()
            if (info.st_dev, info.st_ino) in seen:
                return
            seen.add((info.st_dev, info.st_ino))
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda item: item.name)
        except OSError as exc:
            name = "/".join(parts) + "/" if parts else "."
            found.append((parts, Entry(name, folder, f"is a folder that cannot be read: {exc.strerror or exc} "
                                                      "(expected a folder validate can list: the feeds in it "
                                                      "were not checked)")))
            return
        for item in entries:
            if item.name.startswith("."):
                continue
            sub = parts + (item.name,)
            path = folder / item.name
            if _is(item.is_dir):
                visit(path, sub)
            elif _is(item.is_file):
                found.append((sub, Entry("/".join(sub), path)))
            elif path.suffix.lower() in FEED_SUFFIXES:
                found.append((sub, Entry("/".join(sub), path, f"is {_not_a_file(path)} (expected a regular "
                                                               "file holding a feed)")))

    visit(root, ())
    return [entry for _, entry in sorted(found, key=lambda pair: pair[0])]


def _is(test) -> bool:
    """A DirEntry test (is_dir, is_file, following links) that treats an error as "no"."""
    try:
        return test()
    except OSError:
        return False


def _not_a_file(path: Path) -> str:
    """What a name that is neither a folder nor a regular file is, for a message."""
    try:
        mode = path.lstat().st_mode
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    if stat.S_ISLNK(mode):
        return "a link to nothing" if not path.exists() else "a link to something that is not a file"
    return describe(mode)


def validate_bytes(data: bytes, name: str, *, expect_offset: str | None = None,
                   spec_only: bool = False) -> FileResult:
    """Check one file's bytes; name (e.g. "vi/rss.xml") picks JSON (*.json) or XML (anything else)."""
    offset = Offset.parse(expect_offset) if expect_offset is not None else None
    return _validate(data, name, offset, spec_only)


def format_results(results: Iterable[FileResult]) -> str:
    """One line per checked file, its findings indented below, then a summary line.

    Each finding is introduced by its label: "error" (the format's specification), "feedpub rule"
    (stricter than the format: what feedpub writes must meet it) or "warning".
    """
    lines = []
    checked = failed = skipped = 0
    for r in results:
        if r.kind == "skipped" and not r.findings:
            skipped += 1
            continue
        if r.kind != "skipped":
            checked += 1
        errors = r.errors
        if errors:
            failed += 1
            lines.append(f"FAIL {r.path} ({r.kind}): {len(errors)} error(s)")
        else:
            lines.append(f"OK  {r.path} ({r.kind})")
        lines.extend(f"    {f.label}: {f}" for f in r.findings)
    summary = f"{checked} files checked, {failed} with errors"
    if skipped:
        summary += f"; {skipped} other files not checked (not feeds)"
    lines.append(summary)
    return "\n".join(lines)


def _validate(data: bytes, name: str, offset: Offset | None, spec_only: bool) -> FileResult:
    report = Report(name, offset, spec_only=spec_only)
    if name.lower().endswith(".json"):
        kind = check_jsonfeed(data, report)
        return FileResult(name, kind, report.findings)
    root = parse_xml(data, report)
    if root is None:
        return FileResult(name, _sniff_kind(data), report.findings)
    kind = _identify(root, report)
    if kind == "rss":
        check_rss(root, report)
    elif kind == "atom":
        if etree.QName(root).localname == "entry":
            check_atom_entry_document(root, report)
        else:
            check_atom(root, report)
    return FileResult(name, kind, report.findings)


def _sniff_kind(data: bytes) -> str:
    """A best guess at the format of a file that could not be parsed, for the summary line."""
    head = data[:4096]
    if b"<rss" in head:
        return "rss"
    if b"<feed" in head or b":feed" in head:
        return "atom"
    return "unknown"


def _identify(root: etree._Element, report: Report) -> str:
    """"rss", "atom", or "unknown" after an error saying what the file is instead."""
    qn = etree.QName(root)
    ns, local = qn.namespace or "", qn.localname
    if ns == ATOM_NS and local in ("feed", "entry"):
        return "atom"
    if not ns and local == "rss":
        return "rss"
    if ns in _OBSOLETE_ATOM:
        report.error(f"is an {_OBSOLETE_ATOM[ns]} feed (namespace {quote(ns)}), an obsolete format "
                     f"{_EXPECTED}", "RFC 4287 §1.2 namespace")
    elif local == "feed" and ns.lower() == ATOM_NS.lower():
        report.error(f"root <feed> is in the namespace {quote(ns)}, which is not Atom's: namespace names "
                     f"are case-sensitive {_EXPECTED}", "RFC 4287 §1.2 namespace")
    elif local == "feed":
        where = f"in the namespace {quote(ns)}" if ns else "in no namespace"
        report.error(f"root <feed> is {where}, so it is not Atom 1.0 {_EXPECTED}", "RFC 4287 §1.2 namespace")
    elif local == "rss":
        report.error(f"root <rss> is in the namespace {quote(ns)} (expected no namespace: RSS 2.0 elements have none)",
                     "RSS 2.0 <rss>")
    elif ns == _RDF and local == "RDF":
        report.error("is RSS 1.0 (RDF), a format feedpub validate does not check " + _EXPECTED, "RSS 1.0")
    else:
        shown = f"{{{ns}}}{local}" if ns else local
        report.error(f"cannot be identified as a feed: its root element is <{shown}> {_EXPECTED}", "RSS 2.0, RFC 4287")
    return "unknown"
