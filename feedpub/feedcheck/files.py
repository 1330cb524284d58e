"""Files and folders: tell each file's format, run its checks, and summarise.

A file that should be a feed (*.xml, *.rss, *.atom, *.json) is always checked
or reported: one whose format cannot be identified (Atom 0.3, an Atom root
outside the Atom namespace, RSS 1.0, a JSON file that names no JSON Feed
version) is an error, never a silent skip, so a folder is never "0 with
errors" because of a file nobody looked at.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from lxml import etree

from ..opener import FEED, read_file
from .atom import check_atom, check_atom_entry_document
from .common import ATOM_NS
from .jsonfeed import check_jsonfeed
from .report import ERROR, FileResult, Finding, Offset, Report, quote
from .rss import check_rss
from .xml import parse_xml

__all__ = ["FEED_SUFFIXES", "format_results", "validate_bytes", "validate_output"]

FEED_SUFFIXES = (".xml", ".rss", ".atom", ".json")
_OBSOLETE_ATOM = {"http://purl.org/atom/ns#": "Atom 0.3", "http://purl.org/echo/ns#": "Echo (pre-Atom)"}
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_EXPECTED = '(expected RSS 2.0 <rss version="2.0"> or Atom 1.0 <feed xmlns="http://www.w3.org/2005/Atom">)'


def validate_output(out_dir: Path, *, expect_offset: str | None = None, spec_only: bool = False) -> list[FileResult]:
    """Check every feed file under out_dir; one FileResult per visible file, sorted by path.

    *.xml, *.rss and *.atom files are checked as RSS or Atom (by their root element), *.json files
    as JSON Feed. Anything else (index.html, feed.css, feeds.opml, ...) is listed with kind
    "skipped"; hidden files and directories (.feedpub/, .feedpub.lock) are not listed at all. A
    missing directory, or one without any feed, gives a single result with an error.
    expect_offset is like "+07:00" (ValueError if malformed); spec_only leaves out feedpub's own
    rules, for feeds feedpub did not write.
    """
    offset = Offset.parse(expect_offset) if expect_offset is not None else None
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return [FileResult(str(out_dir), "skipped", [Finding(
            str(out_dir), ERROR, "is not a directory (expected the output directory holding the feeds)")])]
    results = []
    for path in sorted(out_dir.rglob("*")):
        rel = path.relative_to(out_dir)
        if any(part.startswith(".") for part in rel.parts) or path.is_dir():
            continue
        name = rel.as_posix()
        if path.suffix.lower() not in FEED_SUFFIXES:
            results.append(FileResult(name, "skipped", []))
            continue
        try:
            data = read_file(path, cap=FEED.cap)        # a FIFO or a device named *.xml is an error, not a hang
        except OSError as exc:
            results.append(FileResult(name, "unknown", [Finding(name, ERROR, f"cannot be read: {exc.strerror}")]))
            continue
        results.append(_validate(data, name, offset, spec_only))
    if not any(r.kind != "skipped" for r in results):
        results.append(FileResult(".", "skipped", [Finding(
            ".", ERROR, f"no feed files under {out_dir} (expected */rss.xml, */atom.xml, */feed.json)")]))
    return results


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
