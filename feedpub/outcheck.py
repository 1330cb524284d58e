"""Check the generated feed files themselves: the library behind `feedpub validate OUT`.

Nothing here knows how feedpub builds a feed. Every file under OUT is read back
as bytes and judged by the published rules of its format:

- XML files: well-formed UTF-8 XML with an XML declaration saying so, no
  characters XML 1.0 forbids, no C1 control characters (text decoded with the
  wrong codec);
- Atom 1.0 (root atom:feed): RFC 4287;
- RSS 2.0 (root rss version="2.0"): the RSS Advisory Board's RSS Profile;
- JSON Feed 1.1 (*.json naming https://jsonfeed.org/version/1.1).

A few rules go beyond the specifications because common readers break without
them: an RSS item needs a title and a pubDate, an Atom entry a published date,
a feed at least one item, and no feed may carry a DOCTYPE. Things that are
legal but unwise are warnings (no self link, no language, ...). With
expect_offset every date must be written in that UTC offset, which is the only
way to catch local wall-clock time labelled GMT or Z.

Each check is a small function that appends Findings to a _Report. Messages
name the element (with the item's index and id) and say what was expected; str()
of a Finding prefixes the file, e.g.
    vi/rss.xml: item 3 (https://x/id/abc): pubDate "Thu, 03 Dec 2021 23:30:00 +0700"
    has the wrong weekday (expected Fri)
"""
from __future__ import annotations

import json
import re
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path, PurePosixPath
from typing import Any, Iterable
from urllib.parse import urlsplit

from lxml import etree

from .text import XML_FORBIDDEN

__all__ = ["FileResult", "Finding", "format_results", "validate_bytes", "validate_output"]

ERROR = "error"
WARNING = "warning"

ATOM_NS = "http://www.w3.org/2005/Atom"
XML_NS = "http://www.w3.org/XML/1998/namespace"
XHTML_NS = "http://www.w3.org/1999/xhtml"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
JSONFEED_VERSION = "https://jsonfeed.org/version/1.1"

A = "{%s}" % ATOM_NS
XML_LANG = "{%s}lang" % XML_NS
ATOM_LINK = A + "link"
CONTENT_ENCODED = "{%s}encoded" % CONTENT_NS
DC_CREATOR = "{%s}creator" % DC_NS

# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Finding:
    path: str           # file, relative to OUT, with forward slashes
    level: str          # "error" or "warning"
    message: str        # element (with item index and id) and what was expected

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class FileResult:
    path: str
    kind: str           # "rss", "atom", "jsonfeed" or "skipped"
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors


class _Report:
    """Collects the findings of one file."""

    def __init__(self, path: str, offset: "_Offset | None"):
        self.path = path
        self.offset = offset
        self.lines: list[str] = []      # the decoded source, for checks that must see how text was escaped
        self.findings: list[Finding] = []

    def error(self, message: str) -> None:
        self.findings.append(Finding(self.path, ERROR, message))

    def warn(self, message: str) -> None:
        self.findings.append(Finding(self.path, WARNING, message))


# --------------------------------------------------------------------------- entry points


def validate_output(out_dir: Path, *, expect_offset: str | None = None) -> list[FileResult]:
    """Check every feed file under out_dir; one FileResult per visible file, sorted by path.

    *.xml files are checked as RSS or Atom (by their root element), *.json files
    as JSON Feed when they name a JSON Feed version (or are called feed.json).
    Anything else (index.html, feed.css, feeds.opml, ...) is listed with kind
    "skipped"; hidden files and directories (.feedpub/, .feedpub.lock) are not
    listed at all. A missing directory, or one without any feed, gives a single
    result with an error. expect_offset is like "+07:00"; ValueError if malformed.
    """
    offset = _Offset.parse(expect_offset) if expect_offset is not None else None
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        return [FileResult(str(out_dir), "skipped", [Finding(
            str(out_dir), ERROR, "is not a directory (expected the output directory holding the feeds)")])]
    results = []
    for path in sorted(out_dir.rglob("*")):
        rel = path.relative_to(out_dir)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        name = rel.as_posix()
        if path.suffix.lower() not in (".xml", ".json"):
            results.append(FileResult(name, "skipped", []))
            continue
        try:
            data = path.read_bytes()
        except OSError as exc:
            results.append(FileResult(name, "skipped", [Finding(name, ERROR, f"cannot be read: {exc.strerror}")]))
            continue
        results.append(_validate(data, name, offset))
    if not any(r.kind != "skipped" for r in results):
        results.append(FileResult(".", "skipped", [Finding(
            ".", ERROR, f"no feed files under {out_dir} (expected */rss.xml, */atom.xml, */feed.json)")]))
    return results


def validate_bytes(data: bytes, name: str, *, expect_offset: str | None = None) -> FileResult:
    """Check one file's bytes; name (e.g. "vi/rss.xml") picks XML or JSON by its extension."""
    offset = _Offset.parse(expect_offset) if expect_offset is not None else None
    return _validate(data, name, offset)


def format_results(results: Iterable[FileResult]) -> str:
    """One line per checked file, its findings indented below, then a summary line."""
    lines = []
    checked = failed = 0
    for r in results:
        if r.kind == "skipped" and not r.findings:
            continue
        if r.kind != "skipped":
            checked += 1
        errors = r.errors
        if errors:
            failed += 1
            lines.append(f"FAIL {r.path} ({r.kind}): {len(errors)} error(s)")
        else:
            lines.append(f"OK  {r.path} ({r.kind})")
        lines.extend(f"    {f.level}: {f}" for f in r.findings)
    lines.append(f"{checked} files checked, {failed} with errors")
    return "\n".join(lines)


def _validate(data: bytes, name: str, offset: "_Offset | None") -> FileResult:
    report = _Report(name, offset)
    lower = name.lower()
    if lower.endswith(".json"):
        if b"jsonfeed.org/version" not in data[:65536] and PurePosixPath(lower).name != "feed.json":
            return FileResult(name, "skipped", [])
        check_jsonfeed(data, report)
        return FileResult(name, "jsonfeed", report.findings)
    if lower.endswith(".xml"):
        kind = check_xml_file(data, report)
        if kind == "skipped":
            return FileResult(name, "skipped", [])
        return FileResult(name, kind, report.findings)
    return FileResult(name, "skipped", [])


# --------------------------------------------------------------------------- shared value checks

_LANG = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*")
_MIME = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*")
_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S+")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


def _is_http_url(value: str) -> bool:
    """An absolute http(s) URL with a host and no whitespace."""
    if not value or any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def _is_absolute_iri(value: str) -> bool:
    """RFC 3987 absolute IRI: a scheme, then no whitespace; http(s) IRIs need a host."""
    if not _IRI.fullmatch(value or ""):
        return False
    scheme = value.split(":", 1)[0].lower()
    return _is_http_url(value) if scheme in ("http", "https") else True


def _q(value: str) -> str:
    """A value quoted for a message, shortened when long."""
    value = value if len(value) <= 120 else value[:117] + "..."
    value = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in value)
    return f'"{value}"'


@dataclass(frozen=True)
class _Offset:
    """The UTC offset every date must carry (expect_offset)."""

    sign: str
    hours: str
    minutes: str

    @classmethod
    def parse(cls, text: str) -> "_Offset":
        m = re.fullmatch(r"([+-])(\d\d):?(\d\d)", (text or "").strip())
        if not m or int(m.group(2)) > 23 or int(m.group(3)) > 59:
            raise ValueError(f"expect_offset {text!r}: expected a UTC offset like +07:00")
        return cls(*m.groups())

    @property
    def is_utc(self) -> bool:
        return self.hours == "00" and self.minutes == "00"

    @property
    def rfc822(self) -> str:
        return f"{self.sign}{self.hours}{self.minutes}"

    @property
    def rfc3339(self) -> str:
        return f"{self.sign}{self.hours}:{self.minutes}"

    def matches_rfc822(self, zone: str) -> bool:
        if zone == self.rfc822:
            return True
        return self.is_utc and zone in ("GMT", "+0000", "-0000")

    def matches_rfc3339(self, zone: str) -> bool:
        if zone == self.rfc3339:
            return True
        return self.is_utc and zone in ("Z", "z", "+00:00", "-00:00")


# --- RFC 822 (RSS) ---------------------------------------------------------------------------

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_RFC822 = re.compile(r"(?:(?P<dow>[^\s,]+)\s*,\s*)?(?P<day>\d{1,2})\s+(?P<mon>[^\s\d]+)\s+(?P<year>\d+)\s+"
                     r"(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?\s+(?P<zone>\S+)")
_RFC822_EXAMPLE = '"Thu, 02 Dec 2021 23:30:00 +0700"'


def _rfc822(value: str) -> tuple[list[str], str | None, datetime | None]:
    """Problems with an RSS date (each a phrase after the quoted value), its zone, and its instant."""
    m = _RFC822.fullmatch(value.strip())
    if not m:
        return [f"is not an RFC 822 date-time (expected e.g. {_RFC822_EXAMPLE})"], None, None
    problems = []
    dow, mon, year, zone = m.group("dow"), m.group("mon"), m.group("year"), m.group("zone")
    if dow is not None and dow not in _DAYS:
        problems.append(f'has day name "{dow}" (expected one of {", ".join(_DAYS)})')
    if mon not in _MONTHS:
        problems.append(f'has month name "{mon}" (expected one of {", ".join(_MONTHS)})')
    if len(year) != 4:
        problems.append(f'has year "{year}" (expected a 4-digit year)')
    tz = None
    zm = re.fullmatch(r"([+-])(\d\d)(\d\d)", zone)
    if zone == "GMT":
        tz = timezone.utc
    elif zm and int(zm.group(2)) <= 23 and int(zm.group(3)) <= 59:
        sign = 1 if zm.group(1) == "+" else -1
        tz = timezone(sign * timedelta(hours=int(zm.group(2)), minutes=int(zm.group(3))))
    elif re.fullmatch(r"[+-]\d\d:\d\d", zone):
        problems.append(f'has offset "{zone}" with a colon (expected +HHMM, e.g. {zone.replace(":", "")}, or GMT)')
    elif zone.isalpha():
        problems.append(f'has time zone "{zone}" (expected a numeric offset like +0700, or GMT)')
    else:
        problems.append(f'has offset "{zone}" (expected +HHMM, e.g. +0700, or GMT)')
    when = None
    if mon in _MONTHS and len(year) == 4:
        try:
            second = int(m.group("s") or 0)
            when = datetime(int(year), _MONTHS.index(mon) + 1, int(m.group("day")), int(m.group("h")),
                            int(m.group("mi")), min(second, 59), tzinfo=tz or timezone.utc)
            if second > 60:
                raise ValueError("second out of range")
        except ValueError:
            problems.append("is not a real date and time")
            when = None
        if when is not None and dow in _DAYS:
            real = _DAYS[date(int(year), _MONTHS.index(mon) + 1, int(m.group("day"))).weekday()]
            if real != dow:
                problems.append(f"has the wrong weekday (expected {real})")
    return problems, (zone if tz is not None else None), (when if tz is not None else None)


# --- RFC 3339 (Atom, JSON Feed) ------------------------------------------------------------------

_RFC3339 = re.compile(r"(?P<date>(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2}))(?P<sep>[Tt ]?)"
                      r"(?:(?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?P<frac>\.\d+)?)?)?(?P<zone>.*)")
_RFC3339_EXAMPLE = "2021-12-02T23:30:00+07:00"


def _rfc3339(value: str, *, upper: bool) -> tuple[list[str], str | None, datetime | None]:
    """Problems with an RFC 3339 date-time, its zone, and its instant.

    upper: Atom (RFC 4287 section 3.3) wants an uppercase T and Z; RFC 3339 itself allows lowercase.
    """
    m = _RFC3339.fullmatch(value)
    if not m or not m.group("h"):
        return [f"is not an RFC 3339 date-time (expected e.g. {_RFC3339_EXAMPLE})"], None, None
    problems = []
    sep, zone = m.group("sep"), m.group("zone")
    if sep == " " or sep == "":
        problems.append('has no "T" between date and time (expected e.g. %s)' % _RFC3339_EXAMPLE)
    elif sep == "t" and upper:
        problems.append('has a lowercase "t" (expected an uppercase T)')
    if m.group("s") is None:
        problems.append(f"has no seconds (expected e.g. {_RFC3339_EXAMPLE})")
    tz = None
    zm = re.fullmatch(r"([+-])(\d\d):(\d\d)", zone)
    if zone == "Z" or (zone == "z" and not upper):
        tz = timezone.utc
    elif zone == "z":
        problems.append('has a lowercase "z" (expected an uppercase Z)')
    elif zm and int(zm.group(2)) <= 23 and int(zm.group(3)) <= 59:
        sign = 1 if zm.group(1) == "+" else -1
        tz = timezone(sign * timedelta(hours=int(zm.group(2)), minutes=int(zm.group(3))))
    elif zone == "":
        problems.append("has no UTC offset (expected Z or +HH:MM, e.g. +07:00)")
    elif re.fullmatch(r"[+-]\d{4}", zone):
        problems.append(f'has offset "{zone}" without a colon (expected {zone[:3]}:{zone[3:]})')
    elif re.fullmatch(r"[+-]\d\d:\d\d:\d\d(\.\d+)?", zone):
        problems.append(f'has offset "{zone}" with seconds (expected +HH:MM, e.g. {zone[:6]})')
    else:
        problems.append(f'has offset "{zone}" (expected Z or +HH:MM, e.g. +07:00)')
    when = None
    try:
        y, mo, d = int(m.group("y")), int(m.group("mo")), int(m.group("d"))
        h, mi, s = int(m.group("h")), int(m.group("mi")), int(m.group("s") or 0)
        if s > 60 or not 1 <= mo <= 12 or not 1 <= d <= monthrange(y, mo)[1]:
            raise ValueError
        when = datetime(y, mo, d, h, mi, min(s, 59), tzinfo=tz or timezone.utc)
    except ValueError:
        problems.append("is not a real date and time")
    if tz is None:
        when = None
    return problems, (zone if tz is not None else None), when


# --------------------------------------------------------------------------- XML files

_XML_DECL = re.compile(rb"""<\?xml\s+version\s*=\s*(["'])([^"']*)\1"""
                       rb"""(?:\s+encoding\s*=\s*(["'])([^"']*)\3)?"""
                       rb"""(?:\s+standalone\s*=\s*(["'])(yes|no)\5)?\s*\?>""")
_C1 = re.compile("[\x80-\x9f]")


def _safe_parser() -> etree.XMLParser:
    """No entity expansion, no network, no DTD loading."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=False)


def _line_col(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    return f"line {line}, column {pos - (text.rfind(chr(10), 0, pos) + 1) + 1}"


def _sniff_kind(data: bytes) -> str:
    return "atom" if re.search(rb"<(?:[\w.-]+:)?feed[\s>]", data[:4096]) else "rss"


def check_xml_file(data: bytes, report: _Report) -> str:
    """Encoding, characters and well-formedness; then the RSS or Atom rules. Returns the kind."""
    text = check_xml_encoding(data, report)
    if text is None:
        return _sniff_kind(data)
    if not check_xml_characters(text, report):
        return _sniff_kind(data)
    report.lines = text.splitlines()
    try:
        root = etree.fromstring(data, _safe_parser())
    except etree.XMLSyntaxError as exc:
        msg = re.sub(r"\s*\(<string>, line \d+\)$", "", str(exc))
        report.error(f"line {exc.lineno}: is not well-formed XML: {msg}")
        return _sniff_kind(data)
    if root.tag == A + "feed":
        kind = "atom"
    elif root.tag == "rss":
        kind = "rss"
    else:
        return "skipped"            # some other XML document: not a feed
    if root.getroottree().docinfo.doctype:
        report.error(f"has a DOCTYPE {_q(root.getroottree().docinfo.doctype)} (expected none: feeds need no DTD, "
                     "and readers refuse entity declarations)")
    check_c1_in_tree(root, report, already=_C1.search(text) is not None)
    if kind == "atom":
        check_atom(root, report)
    else:
        check_rss(root, report)
    return kind


def check_xml_encoding(data: bytes, report: _Report) -> str | None:
    """XML declaration with encoding UTF-8 at the very start, and bytes that are UTF-8.

    Returns the decoded text, or None when the bytes cannot be read as UTF-8.
    """
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        report.error("is UTF-16 (byte order mark); expected UTF-8")
        return None
    if data.startswith(b"\xef\xbb\xbf"):
        report.warn("starts with a UTF-8 byte order mark (expected none; some readers mishandle it)")
        data = data[3:]
    m = _XML_DECL.match(data)
    if not m:
        if data.lstrip()[:5] == b"<?xml":
            report.error("has text before the XML declaration (expected <?xml ...?> as the very first bytes)")
        else:
            report.error('has no XML declaration (expected <?xml version="1.0" encoding="UTF-8"?> on the first line)')
    else:
        if m.group(2) != b"1.0":
            report.error(f'XML declaration has version="{m.group(2).decode("ascii", "replace")}" (expected "1.0")')
        enc = m.group(4)
        if enc is None:
            report.error('XML declaration has no encoding (expected encoding="UTF-8")')
        elif enc.decode("ascii", "replace").lower() != "utf-8":
            report.error(f'XML declaration says encoding="{enc.decode("ascii", "replace")}" (expected "UTF-8")')
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        report.error(f"is not valid UTF-8: byte 0x{data[exc.start]:02X} at line {line}, "
                     f"offset {exc.start} (expected UTF-8 text)")
        return None


def check_xml_characters(text: str, report: _Report) -> bool:
    """No character XML 1.0 forbids; no C1 control (U+0080..U+009F). False if XML-illegal ones."""
    ok = True
    illegal = list(XML_FORBIDDEN.finditer(text))
    if illegal:
        first = illegal[0]
        more = f" ({len(illegal) - 1} more)" if len(illegal) > 1 else ""
        report.error(f"{_line_col(text, first.start())}: character U+{ord(first.group()):04X} is not allowed "
                     f"in XML 1.0{more} (expected no control characters other than tab, newline, return)")
        ok = False
    c1 = list(_C1.finditer(text))
    if c1:
        first = c1[0]
        more = f" ({len(c1) - 1} more)" if len(c1) > 1 else ""
        report.error(f"{_line_col(text, first.start())}: C1 control character U+{ord(first.group()):04X}{more} "
                     "(expected none; text decoded with the wrong codec, e.g. Windows-1252 as Latin-1?)")
    return ok


def check_c1_in_tree(root: etree._Element, report: _Report, *, already: bool) -> None:
    """C1 controls written as character references (&#x85;) only show up after parsing."""
    if already:
        return
    for el in root.iter():
        values = [el.text, el.tail]
        if isinstance(el.tag, str):
            values.extend(el.attrib.values())
        for value in values:
            if value and _C1.search(value):
                ch = _C1.search(value).group()
                report.error(f"line {el.sourceline}: C1 control character U+{ord(ch):04X} in a character "
                             "reference (expected none; text decoded with the wrong codec?)")
                return


def _text(el: etree._Element | None) -> str:
    return "".join(el.itertext()).strip() if el is not None else ""


def _tag_name(el: etree._Element) -> str:
    """The element's name as written (prefix:local)."""
    qn = etree.QName(el)
    return f"{el.prefix}:{qn.localname}" if el.prefix else qn.localname


# --------------------------------------------------------------------------- RSS 2.0 (RSS Profile)


def check_rss(root: etree._Element, report: _Report) -> None:
    version = root.get("version")
    if version != "2.0":
        report.error(f'<rss> has version={_q(version or "")} (expected "2.0")')
    channels = root.findall("channel")
    if len(channels) != 1:
        report.error(f"<rss> has {len(channels)} <channel> elements (expected exactly one)")
        if not channels:
            return
    channel = channels[0]
    check_rss_channel(channel, report)
    for el in channel.findall("title") + channel.findall("category"):
        check_rss_plain_text(el, "channel: ", report)
    items = channel.findall("item")
    if not items:
        report.error("channel: has no <item> (expected at least one; readers treat an empty feed as broken)")
    seen: dict[str, int] = {}
    for i, item in enumerate(items, 1):
        check_rss_item(item, i, report, seen)


def check_rss_channel(channel: etree._Element, report: _Report) -> None:
    for name in ("title", "link", "description"):
        found = channel.findall(name)
        if not found or not _text(found[0]):
            report.error(f"channel: no <{name}> (expected exactly one, not empty)")
        elif len(found) > 1:
            report.error(f"channel: {len(found)} <{name}> elements (expected exactly one)")
    link = _text(channel.find("link"))
    if link and not _is_http_url(link):
        report.error(f"channel: <link> {_q(link)} is not an absolute http(s) URL (expected the site's home page)")

    selfs = [el for el in channel.findall(ATOM_LINK) if el.get("rel") == "self"]
    self_href = None
    if not selfs:
        report.warn('channel: no <atom:link rel="self"> (expected one giving the feed\'s own URL, '
                    'type="application/rss+xml")')
    else:
        if len(selfs) > 1:
            report.error(f'channel: {len(selfs)} <atom:link rel="self"> elements (expected one)')
        el = selfs[0]
        self_href = (el.get("href") or "").strip()
        if not _is_http_url(self_href):
            report.error(f'channel: <atom:link rel="self"> href {_q(self_href)} is not an absolute http(s) URL '
                         "(expected the feed's own URL)")
        stype = el.get("type")
        if stype is None:
            report.warn('channel: <atom:link rel="self"> has no type (expected type="application/rss+xml")')
        elif stype != "application/rss+xml":
            report.error(f'channel: <atom:link rel="self"> has type {_q(stype)} (expected "application/rss+xml")')
        if link and self_href and link.rstrip("/") == self_href.rstrip("/"):
            report.warn(f"channel: <link> {_q(link)} is the feed's own URL (expected the web site's home page; "
                        'the feed URL belongs in <atom:link rel="self">)')
    for el in channel.findall(ATOM_LINK):
        if not el.get("href"):
            report.error(f'channel: <atom:link rel={_q(el.get("rel") or "")}> has no href (expected a URL)')

    langs = channel.findall("language")
    if not langs:
        report.warn("channel: no <language> (expected the feed's language code, e.g. vi or en)")
    else:
        lang = _text(langs[0])
        if not _LANG.fullmatch(lang):
            report.error(f"channel: <language> {_q(lang)} is not a language tag (expected e.g. vi, en, en-US)")
    for name in ("pubDate", "lastBuildDate"):
        found = channel.findall(name)
        if len(found) > 1:
            report.error(f"channel: {len(found)} <{name}> elements (expected at most one)")
        if found:
            _check_rss_date(found[0], "channel: ", report)


def _item_label(item: etree._Element, index: int) -> str:
    ident = _text(item.find("guid")) or _text(item.find("link"))
    return f"item {index} ({ident}): " if ident else f"item {index}: "


def check_rss_item(item: etree._Element, index: int, report: _Report, seen: dict[str, int]) -> None:
    where = _item_label(item, index)
    for name in ("title", "link", "description", "guid", "pubDate", "author", "comments", "source"):
        n = len(item.findall(name))
        if n > 1:
            report.error(f"{where}{n} <{name}> elements (expected at most one)")
    title, desc = _text(item.find("title")), _text(item.find("description"))
    if not title and not desc:
        report.error(f"{where}has neither <title> nor <description> (expected at least one)")
    elif not title:
        report.error(f"{where}has no <title> (expected one; RSS allows a description alone, "
                     "but many readers reject such items)")

    link = _text(item.find("link"))
    if item.find("link") is None or not link:
        report.error(f"{where}has no <link> (expected the article's absolute URL)")
    elif not _is_http_url(link):
        report.error(f"{where}<link> {_q(link)} is not an absolute http(s) URL")

    check_rss_guid(item, where, report, seen, index)
    for el in item.findall("title") + item.findall("category"):
        check_rss_plain_text(el, where, report)

    pub = item.find("pubDate")
    if pub is None:
        report.error(f"{where}has no <pubDate> (expected the publication date; readers sort items by it)")
    else:
        _check_rss_date(pub, where, report)

    enclosures = item.findall("enclosure")
    if len(enclosures) > 1:
        report.error(f"{where}{len(enclosures)} <enclosure> elements (expected at most one)")
    for enc in enclosures:
        url, length, etype = enc.get("url"), enc.get("length"), enc.get("type")
        if not url or not _is_http_url(url):
            report.error(f"{where}<enclosure> url {_q(url or '')} is not an absolute http(s) URL")
        if length is None or not re.fullmatch(r"\d+", length):
            report.error(f"{where}<enclosure> length {_q(length or '')} is not a number of bytes (expected digits)")
        if not etype or not _MIME.fullmatch(etype):
            report.error(f"{where}<enclosure> type {_q(etype or '')} is not a MIME type (expected e.g. image/jpeg)")

    children = [el for el in item if isinstance(el.tag, str)]
    tags = [el.tag for el in children]
    if CONTENT_ENCODED in tags:
        if "description" not in tags:
            report.warn(f"{where}has <content:encoded> but no <description> (expected a description too)")
        elif tags.index(CONTENT_ENCODED) < tags.index("description"):
            report.error(f"{where}<content:encoded> comes before <description> (expected description first)")
    author = item.find("author")
    if author is not None:
        if item.find(DC_CREATOR) is not None:
            report.error(f"{where}has both <author> and <dc:creator> (expected one of them)")
        if not _EMAIL.search(_text(author)):
            report.error(f"{where}<author> {_q(_text(author))} has no email address "
                         '(expected e.g. "editor@example.com (Name)"; use <dc:creator> for a name alone)')


_LOOKS_LIKE_MARKUP = re.compile(r"<[/A-Za-z][^<>]{0,30}>?|&#[xX]?[0-9A-Fa-f]+;?")
_HEX_REFS = re.compile(r"&#(?:x3[cC]|60|x26|38);")


def check_rss_plain_text(el: etree._Element, where: str, report: _Report) -> None:
    """RSS Profile, character data: plain text that looks like markup must use &#x3C; / &#x26;.

    Some readers render RSS titles as HTML: a title such as 'the <new> model', written
    as 'the &lt;new&gt; model', loses its '<new>' there.
    """
    value = _text(el)
    m = _LOOKS_LIKE_MARKUP.search(value)
    if not m:
        return
    first = (el.sourceline or 1) - 1
    raw = "\n".join(report.lines[first:first + 1 + value.count("\n")])
    if _HEX_REFS.search(raw):
        return
    report.warn(f"{where}<{el.tag}> {_q(value)} contains {_q(m.group())}, which readers that "
                "render it as HTML will drop (expected & and < written as &#x26; and &#x3C; in plain text)")


def check_rss_guid(item: etree._Element, where: str, report: _Report, seen: dict[str, int], index: int) -> None:
    guid = item.find("guid")
    if guid is None:
        report.error(f"{where}has no <guid> (expected a permanent unique id)")
        return
    value = _text(guid)
    if not value:
        report.error(f"{where}<guid> is empty (expected a permanent unique id)")
        return
    perma = guid.get("isPermaLink")
    if perma not in (None, "true", "false"):
        report.error(f'{where}<guid> has isPermaLink={_q(perma)} (expected "true" or "false")')
    elif perma != "false" and not _is_http_url(value):
        declared = 'isPermaLink="true"' if perma == "true" else "no isPermaLink, which means true,"
        report.error(f'{where}<guid> {_q(value)} has {declared} but is not an absolute URL '
                     '(expected a URL, or isPermaLink="false")')
    if value in seen:
        report.error(f"{where}<guid> {_q(value)} is also the guid of item {seen[value]} (expected unique guids)")
    else:
        seen[value] = index


def _check_rss_date(el: etree._Element, where: str, report: _Report) -> None:
    value = _text(el)
    name = _tag_name(el)
    problems, zone, _ = _rfc822(value)
    for p in problems:
        report.error(f"{where}{name} {_q(value)} {p}")
    if not problems and report.offset and zone and not report.offset.matches_rfc822(zone):
        report.error(f"{where}{name} {_q(value)} has offset {zone} (expected {report.offset.rfc822}, "
                     "the site's UTC offset)")


# --------------------------------------------------------------------------- Atom 1.0 (RFC 4287)

_TEXT_CONSTRUCTS = ("title", "subtitle", "rights", "summary")
_ATOM_ATTRS = {
    "link": {"href", "rel", "type", "hreflang", "title", "length"},
    "category": {"term", "scheme", "label"},
    "generator": {"uri", "version"},
    "content": {"type", "src"},
    "title": {"type"}, "subtitle": {"type"}, "rights": {"type"}, "summary": {"type"},
}
_FEED_ONCE = ("generator", "icon", "logo", "rights", "subtitle")
_ENTRY_ONCE = ("content", "published", "rights", "source", "summary")


def _entry_label(entry: etree._Element, index: int) -> str:
    ident = _text(entry.find(A + "id"))
    return f"entry {index} ({ident}): " if ident else f"entry {index}: "


def _check_counts(parent: etree._Element, where: str, at_most_once, report: _Report) -> None:
    """RFC 4287: exactly one id, title and updated; at most one of the others named."""
    for name in ("id", "title", "updated"):
        n = len(parent.findall(A + name))
        if n != 1:
            report.error(f"{where}{n} <{name}> elements (expected exactly one)")
    for name in at_most_once:
        n = len(parent.findall(A + name))
        if n > 1:
            report.error(f"{where}{n} <{name}> elements (expected at most one)")


def check_atom(feed: etree._Element, report: _Report) -> None:
    check_atom_attributes(feed, report)
    check_atom_langs(feed, report)
    check_atom_order(feed, report)
    where = "feed: "
    _check_counts(feed, where, _FEED_ONCE, report)
    _check_atom_id(feed, where, report)
    for el in feed.findall(A + "updated"):
        _check_atom_date(el, where, report)
    for name in ("title", "subtitle", "rights"):
        for el in feed.findall(A + name):
            check_atom_text(el, where, report)
    feed_authors = feed.findall(A + "author")
    for el in feed_authors + feed.findall(A + "contributor"):
        check_atom_person(el, where, report)
    check_atom_links(feed, where, report, level="feed")
    for el in feed.findall(A + "category"):
        if not el.get("term"):
            report.error(f"{where}<category> has no term (expected term=...)")

    entries = feed.findall(A + "entry")
    if not entries:
        report.error(f"{where}has no <entry> (expected at least one; readers treat an empty feed as broken)")
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries, 1):
        check_atom_entry(entry, i, report, seen, feed_has_author=bool(feed_authors))


def check_atom_entry(entry: etree._Element, index: int, report: _Report, seen: dict[str, int], *,
                     feed_has_author: bool) -> None:
    where = _entry_label(entry, index)
    _check_counts(entry, where, _ENTRY_ONCE, report)
    ident = _check_atom_id(entry, where, report)
    if ident:
        if ident in seen:
            report.error(f"{where}<id> {_q(ident)} is also the id of entry {seen[ident]} (expected unique ids)")
        else:
            seen[ident] = index

    dates = {}
    for name in ("updated", "published"):
        for el in entry.findall(A + name):
            dates[name] = _check_atom_date(el, where, report)
    if entry.find(A + "published") is None:
        report.error(f"{where}has no <published> (expected the publication date; many readers "
                     "show no date with <updated> alone)")
    if dates.get("updated") and dates.get("published") and dates["updated"] < dates["published"]:
        report.warn(f"{where}<updated> is earlier than <published> (expected updated >= published)")

    for name in _TEXT_CONSTRUCTS:
        for el in entry.findall(A + name):
            check_atom_text(el, where, report)
    authors = entry.findall(A + "author")
    source = entry.find(A + "source")
    if source is not None:
        authors = authors + source.findall(A + "author")
    for el in entry.findall(A + "author") + entry.findall(A + "contributor"):
        check_atom_person(el, where, report)
    if not authors and not feed_has_author:
        report.error(f"{where}has no <author> and neither has the feed "
                     "(expected an author in the feed or in every entry)")
    for el in entry.findall(A + "category"):
        if not el.get("term"):
            report.error(f"{where}<category> has no term (expected term=...)")

    alternates = check_atom_links(entry, where, report, level="entry")
    content = entry.find(A + "content")
    if content is not None:
        check_atom_content(content, entry, where, report)
    elif not alternates:
        report.error(f'{where}has neither <content> nor <link rel="alternate"> (expected at least one)')
    if content is not None and not alternates:
        report.warn(f'{where}has no <link rel="alternate"> (expected the article\'s URL; readers link to it)')


def check_atom_attributes(root: etree._Element, report: _Report) -> None:
    """Atom elements take no unprefixed attributes except the ones RFC 4287 defines."""
    for el in root.iter(A + "*"):
        local = etree.QName(el).localname
        allowed = _ATOM_ATTRS.get(local, set())
        for attr in el.attrib:
            if not attr.startswith("{") and attr not in allowed:
                report.error(f"line {el.sourceline}: <{local}> has attribute {attr}={_q(el.get(attr))} "
                             "that Atom does not define (expected only xml:* or namespaced attributes)")


def check_atom_langs(root: etree._Element, report: _Report) -> None:
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        lang = el.get(XML_LANG)
        if lang is not None and not _LANG.fullmatch(lang):
            report.error(f"line {el.sourceline}: <{_tag_name(el)}> has xml:lang={_q(lang)} "
                         "(expected a language tag like vi, en or en-US)")
        if el.tag == ATOM_LINK and el.get("hreflang") is not None and not _LANG.fullmatch(el.get("hreflang")):
            report.error(f"line {el.sourceline}: <link> has hreflang={_q(el.get('hreflang'))} "
                         "(expected a language tag like vi, en or en-US)")


def check_atom_order(feed: etree._Element, report: _Report) -> None:
    """RFC 4287 appendix B: all feed metadata (extensions too) comes before the first entry."""
    seen_entry = False
    for el in feed:
        if not isinstance(el.tag, str):
            continue
        if el.tag == A + "entry":
            seen_entry = True
        elif seen_entry:
            report.error(f"feed: <{_tag_name(el)}> (line {el.sourceline}) comes after the first <entry> "
                         "(expected all feed-level elements before the entries)")


def _check_atom_id(parent: etree._Element, where: str, report: _Report) -> str:
    el = parent.find(A + "id")
    if el is None:
        return ""
    value = _text(el)
    if not _is_absolute_iri(value):
        report.error(f"{where}<id> {_q(value)} is not an absolute IRI (expected e.g. https://... or urn:...)")
    return value


def _check_atom_date(el: etree._Element, where: str, report: _Report) -> datetime | None:
    value = el.text or ""
    name = etree.QName(el).localname
    problems, zone, when = _rfc3339(value, upper=True)
    for p in problems:
        report.error(f"{where}<{name}> {_q(value)} {p}")
    if not problems and report.offset and zone and not report.offset.matches_rfc3339(zone):
        report.error(f"{where}<{name}> {_q(value)} has offset {zone} (expected {report.offset.rfc3339}, "
                     "the site's UTC offset)")
    return None if problems else when


def check_atom_text(el: etree._Element, where: str, report: _Report) -> None:
    name = etree.QName(el).localname
    ttype = el.get("type", "text")
    children = [c for c in el if isinstance(c.tag, str)]
    if ttype not in ("text", "html", "xhtml"):
        report.error(f'{where}<{name}> has type={_q(ttype)} (expected "text", "html" or "xhtml")')
    elif ttype == "xhtml":
        if len(children) != 1 or children[0].tag != "{%s}div" % XHTML_NS or (el.text or "").strip():
            report.error(f'{where}<{name} type="xhtml"> (expected exactly one XHTML <div> child)')
    elif children:
        report.error(f'{where}<{name} type="{ttype}"> contains the element <{_tag_name(children[0])}> '
                     '(expected escaped text, or type="xhtml")')


def check_atom_content(content: etree._Element, entry: etree._Element, where: str, report: _Report) -> None:
    ctype = content.get("type", "text")
    src = content.get("src")
    children = [c for c in content if isinstance(c.tag, str)]
    if ctype in ("text", "html"):
        if children:
            report.error(f'{where}<content type="{ctype}"> contains the element <{_tag_name(children[0])}> '
                         '(expected escaped text, or type="xhtml")')
    elif ctype == "xhtml":
        if len(children) != 1 or children[0].tag != "{%s}div" % XHTML_NS:
            report.error(f'{where}<content type="xhtml"> (expected exactly one XHTML <div> child)')
    elif not _MIME.fullmatch(ctype) or ctype.lower().startswith(("multipart/", "message/")):
        report.error(f'{where}<content> has type={_q(ctype)} (expected "text", "html", "xhtml" '
                     "or a non-composite MIME type)")
    if src is not None:
        if not _is_absolute_iri(src):
            report.error(f"{where}<content> src {_q(src)} is not an absolute IRI")
        if children or (content.text or "").strip():
            report.error(f'{where}<content src="..."> is not empty (expected no content when src is given)')
    binary = "/" in ctype and not (ctype.lower().startswith("text/") or ctype.lower().endswith(("/xml", "+xml")))
    if (src is not None or binary) and entry.find(A + "summary") is None:
        report.error(f"{where}has <content> with src or non-text type but no <summary> (expected a summary)")


def check_atom_person(el: etree._Element, where: str, report: _Report) -> None:
    local = etree.QName(el).localname
    names = el.findall(A + "name")
    if len(names) != 1 or not _text(names[0]):
        report.error(f"{where}<{local}> has {len(names)} <name> elements (expected exactly one, not empty)")
    for email in el.findall(A + "email"):
        if not _EMAIL.fullmatch(_text(email)):
            report.error(f"{where}<{local}> email {_q(_text(email))} is not an email address")
    for uri in el.findall(A + "uri"):
        if not _text(uri):
            report.error(f"{where}<{local}> has an empty <uri> (expected an IRI)")


def check_atom_links(parent: etree._Element, where: str, report: _Report, *, level: str) -> bool:
    """href, length and duplicate alternates; the self link at feed level. True if an alternate exists."""
    alternates: dict[tuple[str, str], str] = {}
    selfs = []
    for link in parent.findall(ATOM_LINK):
        href = link.get("href")
        rel = link.get("rel", "alternate")
        if not href:
            report.error(f"{where}<link rel={_q(rel)}> has no href (expected an IRI)")
            continue
        if link.get("length") is not None and not re.fullmatch(r"\d+", link.get("length")):
            report.error(f"{where}<link rel={_q(rel)}> has length={_q(link.get('length'))} (expected digits)")
        ltype = link.get("type")
        if ltype is not None and not _MIME.fullmatch(ltype):
            report.error(f"{where}<link rel={_q(rel)}> has type={_q(ltype)} (expected a MIME type)")
        if rel == "self":
            selfs.append(link)
        if rel == "alternate":
            key = (ltype or "", link.get("hreflang") or "")
            if key in alternates:
                report.error(f'{where}two <link rel="alternate"> with type={_q(key[0])} and '
                             f"hreflang={_q(key[1])}: {_q(alternates[key])} and {_q(href)} "
                             "(expected at most one per type and hreflang)")
            else:
                alternates[key] = href
    if level == "feed":
        if not selfs:
            report.warn(f'{where}no <link rel="self"> (expected one giving the feed\'s own URL)')
        for link in selfs:
            href = link.get("href") or ""
            if not _is_http_url(href):
                report.error(f'{where}<link rel="self"> href {_q(href)} is not an absolute http(s) URL '
                             "(expected the feed's own URL)")
            stype = link.get("type")
            if stype is not None and stype != "application/atom+xml":
                report.warn(f'{where}<link rel="self"> has type={_q(stype)} (expected "application/atom+xml")')
    return bool(alternates)


# --------------------------------------------------------------------------- JSON Feed 1.1

_JSON_FEED_STRINGS = ("description", "user_comment", "next_url", "icon", "favicon", "language")
_JSON_ITEM_STRINGS = ("content_html", "content_text", "url", "external_url", "title", "summary",
                      "image", "banner_image", "language")


def check_jsonfeed(data: bytes, report: _Report) -> None:
    if data.startswith(b"\xef\xbb\xbf"):
        report.error("starts with a UTF-8 byte order mark (expected none; RFC 8259 forbids it)")
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        report.error(f"is not valid UTF-8: byte 0x{data[exc.start]:02X} at line {line}, offset {exc.start}")
        return
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        report.error(f"is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")
        return
    if not isinstance(doc, dict):
        report.error(f"top level is a JSON {_json_type(doc)} (expected an object)")
        return
    if _C1.search(text):
        m = _C1.search(text)
        report.error(f"{_line_col(text, m.start())}: C1 control character U+{ord(m.group()):04X} "
                     "(expected none; text decoded with the wrong codec?)")
    check_jsonfeed_top(doc, report)
    items = doc.get("items")
    if not isinstance(items, list):
        return
    seen: dict[str, int] = {}
    for i, item in enumerate(items, 1):
        check_jsonfeed_item(item, i, report, seen)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "array",
            dict: "object"}.get(type(value), type(value).__name__)


def check_jsonfeed_top(doc: dict, report: _Report) -> None:
    version = doc.get("version")
    if version != JSONFEED_VERSION:
        shown = "missing" if "version" not in doc else _q(str(version))
        report.error(f'feed: "version" is {shown} (expected {_q(JSONFEED_VERSION)})')
    title = doc.get("title")
    if "title" not in doc:
        report.error('feed: "title" is missing (expected a non-empty string)')
    elif not isinstance(title, str):
        report.error(f'feed: "title" is a {_json_type(title)} (expected a non-empty string)')
    elif not title.strip():
        report.error('feed: "title" is empty (expected a non-empty string)')
    items = doc.get("items")
    if "items" not in doc:
        report.error('feed: "items" is missing (expected an array of items)')
    elif not isinstance(items, list):
        report.error(f'feed: "items" is a {_json_type(items)} (expected an array)')
    elif not items:
        report.error('feed: "items" is empty (expected at least one item; readers treat an empty feed as broken)')
    for key in ("home_page_url", "feed_url"):
        if key not in doc:
            report.warn(f'feed: no "{key}" (the spec strongly recommends it)')
        elif not isinstance(doc[key], str) or not _is_http_url(doc[key]):
            report.error(f'feed: "{key}" {_q(str(doc[key]))} is not an absolute http(s) URL')
    for key in _JSON_FEED_STRINGS:
        if key in doc and not isinstance(doc[key], str):
            report.error(f'feed: "{key}" is a {_json_type(doc[key])} (expected a string)')
    if isinstance(doc.get("language"), str) and not _LANG.fullmatch(doc["language"]):
        report.error(f'feed: "language" {_q(doc["language"])} is not a language tag (expected e.g. vi, en)')
    if "expired" in doc and not isinstance(doc["expired"], bool):
        report.error(f'feed: "expired" is a {_json_type(doc["expired"])} (expected true or false)')
    _check_json_authors(doc, "feed: ", report)
    if "hubs" in doc:
        hubs = doc["hubs"]
        if not isinstance(hubs, list):
            report.error(f'feed: "hubs" is a {_json_type(hubs)} (expected an array)')
        else:
            for j, hub in enumerate(hubs, 1):
                if not isinstance(hub, dict) or not isinstance(hub.get("type"), str) \
                        or not isinstance(hub.get("url"), str):
                    report.error(f'feed: hub {j} (expected an object with string "type" and "url")')


def _check_json_authors(obj: dict, where: str, report: _Report) -> None:
    """JSON Feed 1.1 lets a feed keep 1.0's "author" beside "authors" for older readers; alone it is
    deprecated, and beside "authors" it must name the same first author."""
    authors = obj.get("authors")
    if "author" in obj:
        if "authors" not in obj:
            report.warn(f'{where}"author" is deprecated in JSON Feed 1.1 (expected "authors", an array)')
        if not isinstance(obj["author"], dict):
            report.error(f'{where}"author" is a {_json_type(obj["author"])} (expected an object)')
        else:
            _check_json_author(obj["author"], f'{where}"author" ', report)
            if isinstance(authors, list) and authors and obj["author"] != authors[0]:
                report.error(f'{where}"author" differs from the first of "authors" '
                             "(expected the same author, kept for JSON Feed 1.0 readers)")
    if "authors" not in obj:
        return
    if not isinstance(authors, list):
        report.error(f'{where}"authors" is a {_json_type(authors)} (expected an array of objects)')
        return
    for j, author in enumerate(authors, 1):
        if not isinstance(author, dict):
            report.error(f"{where}author {j} is a {_json_type(author)} (expected an object)")
            continue
        _check_json_author(author, f"{where}author {j} ", report)


def _check_json_author(author: dict, where: str, report: _Report) -> None:
    if not any(k in author for k in ("name", "url", "avatar")):
        report.error(f'{where}has none of "name", "url", "avatar" (expected at least one)')
    for k in ("name", "url", "avatar"):
        if k in author and not isinstance(author[k], str):
            report.error(f'{where}"{k}" is a {_json_type(author[k])} (expected a string)')
    for k in ("url", "avatar"):
        if isinstance(author.get(k), str) and not _is_http_url(author[k]):
            report.error(f'{where}"{k}" {_q(author[k])} is not an absolute http(s) URL')


def check_jsonfeed_item(item: Any, index: int, report: _Report, seen: dict[str, int]) -> None:
    if not isinstance(item, dict):
        report.error(f"item {index}: is a {_json_type(item)} (expected an object)")
        return
    ident = item.get("id")
    where = f"item {index} ({ident}): " if isinstance(ident, str) and ident else f"item {index}: "
    if "id" not in item:
        report.error(f'{where}no "id" (expected a unique string)')
    elif not isinstance(ident, str):
        report.error(f'{where}"id" is a {_json_type(ident)} {json.dumps(ident)} (expected a string)')
    elif not ident.strip():
        report.error(f'{where}"id" is empty (expected a unique string)')
    elif ident in seen:
        report.error(f'{where}"id" {_q(ident)} is also the id of item {seen[ident]} (expected unique ids)')
    else:
        seen[ident] = index
    if "content_html" not in item and "content_text" not in item:
        report.error(f'{where}has neither "content_html" nor "content_text" (expected at least one)')
    for key in _JSON_ITEM_STRINGS:
        if key in item and not isinstance(item[key], str):
            report.error(f'{where}"{key}" is a {_json_type(item[key])} (expected a string)')
    for key in ("url", "external_url", "image", "banner_image"):
        if isinstance(item.get(key), str) and not _is_http_url(item[key]):
            report.error(f'{where}"{key}" {_q(item[key])} is not an absolute http(s) URL')
    if isinstance(item.get("language"), str) and not _LANG.fullmatch(item["language"]):
        report.error(f'{where}"language" {_q(item["language"])} is not a language tag (expected e.g. vi, en)')

    dates = {}
    for key in ("date_published", "date_modified"):
        if key not in item:
            continue
        value = item[key]
        if not isinstance(value, str):
            report.error(f'{where}"{key}" is a {_json_type(value)} (expected an RFC 3339 string)')
            continue
        problems, zone, when = _rfc3339(value, upper=False)
        for p in problems:
            report.error(f'{where}"{key}" {_q(value)} {p}')
        if not problems:
            dates[key] = when
            if report.offset and zone and not report.offset.matches_rfc3339(zone):
                report.error(f'{where}"{key}" {_q(value)} has offset {zone} (expected {report.offset.rfc3339}, '
                             "the site's UTC offset)")
    if "date_published" not in item:
        report.warn(f'{where}no "date_published" (readers cannot order it)')
    if "date_published" in dates and "date_modified" in dates and dates["date_modified"] < dates["date_published"]:
        report.warn(f'{where}"date_modified" is earlier than "date_published"')

    if "tags" in item and not (isinstance(item["tags"], list) and all(isinstance(t, str) for t in item["tags"])):
        report.error(f'{where}"tags" (expected an array of strings)')
    _check_json_authors(item, where, report)
    if "attachments" in item:
        attachments = item["attachments"]
        if not isinstance(attachments, list):
            report.error(f'{where}"attachments" is a {_json_type(attachments)} (expected an array)')
            return
        for j, att in enumerate(attachments, 1):
            if not isinstance(att, dict):
                report.error(f"{where}attachment {j} is a {_json_type(att)} (expected an object)")
                continue
            url, mime = att.get("url"), att.get("mime_type")
            if not isinstance(url, str) or not _is_http_url(url):
                report.error(f'{where}attachment {j} "url" '
                             + (_q(url) if isinstance(url, str) else "is missing or not a string")
                             + " (expected an absolute http(s) URL)")
            if not isinstance(mime, str) or not _MIME.fullmatch(mime):
                report.error(f'{where}attachment {j} "mime_type" '
                             + (_q(mime) if isinstance(mime, str) else "is missing or not a string")
                             + " (expected a MIME type like image/jpeg)")
            if "title" in att and not isinstance(att["title"], str):
                report.error(f'{where}attachment {j} "title" is a {_json_type(att["title"])} (expected a string)')
            for k in ("size_in_bytes", "duration_in_seconds"):
                if k in att and (isinstance(att[k], bool) or not isinstance(att[k], (int, float))):
                    report.error(f'{where}attachment {j} "{k}" is a {_json_type(att[k])} (expected a number)')
