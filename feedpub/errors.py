"""Every error feedpub reports to its user.

FeedpubError            every user error: one line on stderr, an exit code, nothing half-published
 ├── ConfigError        feedpub.toml missing, unreadable or invalid: nothing can be built
 │    └── ColumnTypeError   a [source] column whose type cannot hold its record field (exit 2)
 ├── SiteError          the site directory or its articles/ folder cannot be read
 ├── SourceError        the [source] database cannot be reached, read or understood in time
 ├── RecordError        one field of one record is wrong (file or table, line or row key, field, message)
 ├── UsageError         a value given to the command or the library cannot be used (--now)
 ├── PublishError       the output directory cannot be written; old feeds stay as they were
 │    ├── OutputConflictError   a file feedpub would write is not its own: nothing was published
 │    └── OutputPathError       a link, a FIFO, a misplaced file or folder on a path in OUT: never followed
 ├── CacheError         the --state path holds a file that is not feedpub's cache: left untouched
 ├── LockedError        another run holds the output lock past --wait
 └── RejectedError      --strict and some records were rejected: nothing was written

DateError (a ValueError) is the pure date reader's: it knows no file, and the
record rules turn it into a RecordError with the location.
 └── PlaceholderDateError   0001-01-01 00:00:00, the "no date" of .NET and SQL exports

The CLI renders each of these once, as one line, and maps it to an exit code.
"""
from __future__ import annotations

from .layout import MANIFEST


class FeedpubError(Exception):
    """Base of every user-facing error."""


class ConfigError(FeedpubError):
    """feedpub.toml is missing, unreadable or invalid."""


class ColumnTypeError(ConfigError):
    """A column of the [source] database whose type cannot hold the record field it maps to (a
    `published` of type time or interval, say): no row could ever be read, so nothing is built.

    The message names the column, its type and the types the field accepts.
    """

    def __init__(self, label: str, problems: list[tuple[str, str, str, str]]):
        self.label = label
        self.problems = list(problems)       # (field, column, its type, what the field accepts)
        shown = "; ".join(f'column "{column}"{"" if column == field else f" ({field})"} is of type {kind}, which '
                          f'cannot hold a record\'s {field} (expected {accepted})'
                          for field, column, kind, accepted in self.problems)
        super().__init__(f"{label}: {shown}; change the column's type or map [source.columns] {self.problems[0][0]} "
                         "to another column")


class SiteError(FeedpubError):
    """The site directory cannot be read."""


class SourceError(FeedpubError):
    """The [source] database cannot be connected to, read, or answered within its timeout.

    Raised before anything is published, so old feeds stay as they were. The
    message names the database by its URL with the password removed, never the
    password itself.
    """


class PublishError(FeedpubError):
    """A feed could not be written; existing feeds are left untouched."""


class OutputPathError(PublishError):
    """Something on a path feedpub would change inside OUT is not what it needs there: a symbolic
    link (never followed), a file where a folder belongs, a folder where a file belongs, a FIFO, or
    a path it cannot examine. `rel` is the path inside OUT (`root` as the user named it)."""

    def __init__(self, root, rel: str, reason: str):
        self.root = root
        self.rel = rel
        self.reason = reason
        super().__init__(f"{root}: {rel} {reason}; nothing was published")


class UsageError(FeedpubError):
    """A value given to the command or the library cannot be used (a --now that is not a date)."""


class CacheError(FeedpubError):
    """The cache path (--state) holds a file that is not feedpub's cache; it was left untouched."""


class LockedError(FeedpubError):
    """Another feedpub run holds the output lock."""


class RejectedError(FeedpubError):
    """--strict was given and some records were rejected; `errors` holds their lines."""

    def __init__(self, errors: list[str]):
        self.errors = list(errors)
        super().__init__(f"{len(self.errors)} record(s) rejected; --strict: nothing was written")


class RecordError(FeedpubError):
    """One problem with one field of one record, located as FILE:LINE.

    A record from a database is located as TABLE:KEY instead: `source` is the table's
    name (or "query"), `line` the row's id as text, or "row N" when the id itself is
    unusable. Both render as `source:line`.
    """

    def __init__(self, source: str, line: int | str, field: str | None, message: str):
        self.source = source
        self.line = line
        self.field = field
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        from .text import printable
        where = f"{self.source}:{self.line}" if self.line else self.source
        if self.field:
            return printable(f'{where}: field "{self.field}": {self.message}')
        return printable(f"{where}: {self.message}")


class DateError(ValueError):
    """A date string that cannot be read; the message says what was expected.

    Raised by the pure date parser, which knows nothing of files; the record
    validator turns it into a RecordError with the location.
    """


class OutputConflictError(PublishError):
    """Files feedpub would write exist in OUT and are not its own: nothing was published."""

    def __init__(self, out_dir, conflicts: list[tuple[str, str]], *, manifest: str | None = None):
        self.out_dir = out_dir
        self.conflicts = list(conflicts)
        shown = "; ".join(f"{path} {reason}" for path, reason in self.conflicts[:5])
        more = f" (and {len(self.conflicts) - 5} more)" if len(self.conflicts) > 5 else ""
        if manifest is None:            # a folder
            how = (f"files it wrote itself (listed in {out_dir}/{MANIFEST}): move the file away, or "
                   "give feedpub an output directory (or a folder of it) of its own")
        else:                           # a bucket prefix, whose manifest is there
            how = (f"objects it wrote itself (listed in {manifest}): move the object away, or give feedpub a "
                   "prefix of its own")
        super().__init__(f"{out_dir}: {shown}{more}: nothing was published; feedpub overwrites only {how}")


class PlaceholderDateError(DateError):
    """0001-01-01 00:00:00, which .NET (DateTime.MinValue) and SQL exports write for "no date".

    Not a date anything was published on: a required field rejects it, an
    optional one (updated) reads it as absent.
    """

    def __init__(self, message: str, shown: str = ""):
        super().__init__(message)
        self.shown = shown        # the input, quoted for a message line
