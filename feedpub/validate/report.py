"""Findings and how they are collected: the types every check module shares."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["ERROR", "WARNING", "FileResult", "Finding", "Offset", "Report", "quote"]

ERROR = "error"
WARNING = "warning"
FEEDPUB = "feedpub"         # the ref of a rule of feedpub's own


@dataclass(frozen=True)
class Finding:
    """One problem in one file.

    ref names where the rule comes from ("RFC 4287 §4.2.6", "RSS 2.0 <enclosure>", "RSS Profile",
    "JSON Feed 1.1 items"); house is True for a rule of feedpub's own, stricter than the format,
    which `feedpub validate` applies to what feedpub wrote and drops with spec_only.
    """

    path: str           # file, relative to OUT, with forward slashes
    level: str          # "error" or "warning"
    message: str        # element (with item index and id) and what was expected
    ref: str = ""
    house: bool = False

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" + (f" [{self.ref}]" if self.ref else "")

    @property
    def label(self) -> str:
        """How the finding is introduced in the output: 'error', 'feedpub rule' or 'warning'."""
        if self.level == ERROR:
            return "feedpub rule" if self.house else "error"
        return "warning"


@dataclass
class FileResult:
    path: str
    kind: str           # "rss", "atom", "jsonfeed", "unknown" (a feed file of no known format) or "skipped"
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


@dataclass(frozen=True)
class Offset:
    """The UTC offset every date must carry (expect_offset)."""

    sign: str
    hours: str
    minutes: str

    @classmethod
    def parse(cls, text: str) -> "Offset":
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
        return self.is_utc and zone in ("GMT", "UT", "Z", "+0000", "-0000")

    def matches_rfc3339(self, zone: str) -> bool:
        if zone == self.rfc3339:
            return True
        return self.is_utc and zone in ("Z", "z", "+00:00", "-00:00")


class Report:
    """Collects the findings of one file.

    spec_only drops feedpub's own rules (house findings) as they are reported; offset is the
    expected UTC offset of every date, or None.
    """

    def __init__(self, path: str, offset: Offset | None = None, *, spec_only: bool = False):
        self.path = path
        self.offset = offset
        self.spec_only = spec_only
        self.lines: list[str] = []      # the decoded source, for checks that must see how text was escaped
        self.findings: list[Finding] = []

    def error(self, message: str, ref: str) -> None:
        """A violation of the format's specification."""
        self.findings.append(Finding(self.path, ERROR, message, ref))

    def warn(self, message: str, ref: str) -> None:
        """Legal but unwise: a SHOULD of the specification, or a common reader's trouble."""
        self.findings.append(Finding(self.path, WARNING, message, ref))

    def house(self, message: str, why: str = "") -> None:
        """A rule of feedpub's own: what feedpub writes must meet it; other feeds need not (spec_only)."""
        if not self.spec_only:
            self.findings.append(Finding(self.path, ERROR, message, f"{FEEDPUB}: {why}" if why else FEEDPUB, True))


def quote(value: str) -> str:
    """A value quoted for a message, shortened when long, every unprintable character escaped."""
    value = value if len(value) <= 120 else value[:117] + "..."
    value = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in value)
    return f'"{value}"'
