"""Read one record file and keep what the index needs of it, reporting every bad record.

A scan checks every field of every record (records.RecordRules), but decodes
article bodies only far enough to know they are text: a feed can only ever
carry the newest max_items per language (and per category), so a file keeps
only its newest candidates per feed (selection.Chooser, SCAN_SPARES beyond
max_items) plus everything scheduled for later, and the index learns every
record's id and translation key. The bodies of the final winners are read
again afterwards, by byte offset (load.py).

A JSONL file read to a newline leaves a resume point: where it stopped, and the
SHA-256 of the bytes before. A file that later only grew (those bytes still hash
the same) is read from there, its new lines merged with what the index kept of
it (Resume): an appended line costs itself, not the whole file.
"""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import msgspec

from ..errors import RecordError
from ..limits import over
from ..records import FastRecord, Ranked, RecordRules
from ..selection import SCAN_SPARES, Chooser
from ..text import printable
from .decode import BOM, BadRecord, decode_one, duplicate_keys, encoding_problem, json_file_records, without_bom
from .files import Signature, open_record_file, signature

__all__ = ["FileScan", "Resume", "ScanSettings", "scan_file"]

CHUNK = 1 << 20
READ_ATTEMPTS = 3
_FAST = msgspec.json.Decoder(FastRecord)
_JSON = msgspec.json.Encoder()


class ScanSettings(msgspec.Struct, frozen=True):
    """How a scan keeps candidates (plain values: the settings cross to worker processes)."""

    max_items: int
    category_feeds: bool
    resumable: bool = False            # leave a resume point (costs a SHA-256 of the bytes read)

    @property
    def keep(self) -> int:
        """Candidates a file keeps per feed."""
        return self.max_items + SCAN_SPARES


class FileScan(msgspec.Struct, array_like=True):
    """What the index keeps of one record file: rows as JSON arrays, ready for SQLite's json_each.

    ids     [id, line, offset, translation key or null, lang, ts or null for a draft] of every valid record
    cands   [lang, category or "", ts, id, line, offset] the newest per feed, and every scheduled record
    floors  [lang, category or "", ts, id] per feed whose candidates were cut: the lowest one kept

    A scan resumed at line `since` (Resume) read only the lines from there on: `ids` holds
    theirs, the earlier ones being in the index unchanged, while records, problems, floors and
    the candidates published by scan_ts are the whole file's (its earlier scheduled ones stay).
    """

    path: str
    sig: Signature
    scan_ts: float                     # "now" of the scan: candidates hold records published by then
    records: int                       # valid records
    problems: list[tuple[Any, Any, str]]   # (line, field or None, message)
    warnings: list[str]
    ids: bytes = b"[]"
    cands: bytes = b"[]"
    floors: bytes = b"[]"
    since: int = 0                     # the first line read (0: the whole file)
    resume: tuple[int, int, bytes] | None = None   # (offset, line, SHA-256 of the bytes before offset)

    def errors(self) -> list[RecordError]:
        return [RecordError(self.path, line, field, message) for line, field, message in self.problems]


@dataclass(frozen=True)
class Resume:
    """Where an earlier scan of a JSONL file stopped (at a newline), and what the index keeps of
    the lines before: a file whose first `offset` bytes still hash to `head` is read from there.
    Valid only for a scan at or after that one's time: candidates it cut stay cut because the
    ones it kept, all still published, outrank them."""

    offset: int
    line: int                          # the line at offset
    head: bytes                        # SHA-256 of the bytes before offset
    records: int                       # valid records before offset
    problems: list                     # (line, field or None, message) before offset
    cands: list                        # (lang, category or "", ts, id, line, offset): per feed, the newest
                                       # ScanSettings.keep published by now
    cut: list                          # (lang, category or "") of each feed it cut, or with more published now


class _Collector:
    """Keeps the newest candidates of one file while its records stream past."""

    def __init__(self, path: str, sig: Signature, rules: RecordRules, settings: ScanSettings, now_ts: float,
                 keep_all: bool, thorough: bool):
        self.path, self.sig, self.rules, self.now_ts = path, sig, rules, now_ts
        self.by_category = settings.category_feeds
        self.thorough = thorough
        # per feed (language, category or ""): the newest, every one with keep_all; and every scheduled one
        self.chooser = Chooser(None if keep_all else settings.keep, now_ts, keep_scheduled=True)
        self.ids: list = []
        self.problems: list[tuple[Any, Any, str]] = []
        self.warnings: list[str] = []
        self.since = 0
        self.before = 0                    # valid records before `since`
        self.resume: tuple[int, int, bytes] | None = None

    def resume_from(self, resume: Resume) -> None:
        """Go on from an earlier scan: its records, problems and candidates, as if just read."""
        self.since, self.before = resume.line, resume.records
        self.problems = [tuple(p) for p in resume.problems]
        offer = self.chooser.offer
        for lang, cat, ts, ident, line, offset in resume.cands:
            offer(ts, ident, ((lang, cat),), (line, offset), -line)
        self.chooser.cut.update((lang, cat) for lang, cat in resume.cut)

    # --- records in ------------------------------------------------------------------------------

    def add_block(self, block, first_line: int, first_offset: int, starts: list[int], max_line: int) -> int:
        """A run of whole JSONL lines (bytes or a memoryview), decoded in one call when every line
        is clean; starts holds each line's offset in block, then len(block) + 1. A line longer than
        max_line bytes is that line's error. Returns the line count."""
        records = None
        long = max_line < len(block) and any(b - a - 1 > max_line for a, b in zip(starts, starts[1:]))
        if not self.thorough and not long:
            try:
                records = _FAST.decode_lines(block)
            except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
                records = None
        if records is None or len(records) != len(starts) - 1:
            for i in range(len(starts) - 1):
                if starts[i + 1] - starts[i] - 1 > max_line:
                    self.too_long(first_line + i, starts[i + 1] - starts[i] - 1)
                    continue
                text = bytes(block[starts[i]:starts[i + 1] - 1])
                if text.strip():
                    self.add_raw(first_line + i, first_offset + starts[i], text)
            return len(starts) - 1
        rank = self.rules.rank
        for i, rec in enumerate(records):
            ranked = rank(rec)
            if ranked is None:
                self.add_raw(first_line + i, first_offset + starts[i], bytes(block[starts[i]:starts[i + 1] - 1]))
            else:
                self.accept(ranked, first_line + i, first_offset + starts[i])
        return len(starts) - 1

    def add_raw(self, line: int, offset: int, data: bytes) -> None:
        """One record's JSON text: the fast path when it fits, the full checker otherwise."""
        if not self.thorough:
            try:
                ranked = self.rules.rank(_FAST.decode(data))
            except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
                ranked = None
            if ranked is not None:
                self.accept(ranked, line, offset)
                return
        try:
            obj = decode_one(data)
        except BadRecord as bad:
            self.problem(line, str(bad))
            return
        if self.thorough:
            self.warn_duplicates(line, data)
        self.add_object(line, offset, obj)

    def add_tail(self, line: int, offset: int, data: bytes, grew: Callable[[], bool]) -> bool:
        """The last line of a file that has no newline yet: a record if it is one; if it is not
        JSON and a writer is busy with the file, half a record (left for the next run, which reads
        the file again: it was modified too recently to be trusted). False when it was left."""
        try:
            decode_one(data)
        except BadRecord:
            if grew():
                return False
        self.add_raw(line, offset, data)
        return True

    def add_object(self, line: int, offset: int, obj: Any) -> None:
        article, errors, warnings = self.rules.check(obj, self.path, line)
        self.problems.extend((e.line, e.field, e.message) for e in errors)
        if article is None:
            return
        if self.thorough:
            self.warnings.extend(warnings)
        self.accept(Ranked(article.published.timestamp(), article.id, article.lang, article.categories,
                           article.translation_key, article.draft), line, offset)

    def problem(self, line: int, message: str) -> None:
        self.problems.append((line, None, message))

    def too_long(self, line: int, length: int) -> None:
        self.problem(line, over("jsonl_line_bytes", f"is {length:,} bytes long", self.rules.limits))

    def warn_duplicates(self, line: int, text: bytes) -> None:
        where = f"{self.path}:{line}" if line else self.path
        for key in duplicate_keys(text):
            self.warnings.append(printable(f'{where}: key "{key}" appears more than once in one object; '
                                           "the last value was used"))

    # --- what is kept ----------------------------------------------------------------------------

    def accept(self, ranked: Ranked, line: int, offset: int) -> None:
        ts, ident, lang, cats, key, draft = ranked
        self.ids.append((ident, line, offset, key, lang, None if draft else ts))
        if draft:
            return
        feeds = [(lang, "")]
        if cats and self.by_category:
            feeds += [(lang, cat) for cat in cats]
        self.chooser.offer(ts, ident, feeds, (line, offset), -line)      # equal ranks: the first line wins

    def result(self) -> FileScan:
        chooser = self.chooser
        cands = [(lang, cat, ts, ident, line, offset) for (lang, cat), ts, ident, (line, offset) in chooser.scheduled]
        floors = []
        for feed in chooser.heaps:
            lang, cat = feed
            cands.extend((lang, cat, ts, ident, line, offset) for ts, ident, _, (line, offset) in chooser.entries(feed))
            if feed in chooser.cut:
                floors.append((lang, cat, *chooser.lowest(feed)))
        encode = _JSON.encode
        return FileScan(self.path, self.sig, self.now_ts, self.before + len(self.ids), self.problems, self.warnings,
                        encode(self.ids), encode(cands), encode(floors), self.since, self.resume)


# --- reading a file ------------------------------------------------------------------------------


def scan_file(site_dir: Path, path: str, rules: RecordRules, settings: ScanSettings, now_ts: float, *,
              keep_all: bool = False, thorough: bool = False, resume: Resume | None = None) -> FileScan:
    """Scan one record file; unreadable or malformed files become problems, never exceptions.

    keep_all keeps every candidate instead of the newest per feed; thorough checks
    every record with the full checker and collects its warnings too. A file
    rewritten or truncated while it was read is read again (a few times); one
    that only grew keeps what was there when it was opened. resume: where an
    earlier scan stopped; used when the bytes before it are unchanged, the whole
    file read otherwise.
    """
    full = Path(site_dir) / path
    for attempt in range(READ_ATTEMPTS):
        try:
            handle = open(open_record_file(full), "rb")
        except OSError as exc:
            return unreadable(path, exc)
        with handle:
            sig = signature(os.fstat(handle.fileno()))
            collector = _Collector(path, sig, rules, settings, now_ts, keep_all, thorough)
            try:
                if path.endswith(".jsonl"):
                    head = hashlib.sha256() if settings.resumable else None
                    start = (0, 1)
                    if head is not None and resume is not None and not keep_all and not thorough:
                        if _same_head(handle, resume, head, sig[0]):
                            collector.resume_from(resume)
                            start = (resume.offset, resume.line)
                        else:
                            handle.seek(0)
                            head = hashlib.sha256()
                    if start[0] == 0:
                        problem = encoding_problem(handle.peek(4)[:4])
                        if problem:
                            collector.problem(1, problem)
                            return collector.result()
                    got = _scan_jsonl(handle, collector, sig[0], rules.limits.jsonl_line_bytes, start, head)
                    after = os.fstat(handle.fileno())
                    steady = got == sig[0] and after.st_size >= sig[0]
                elif sig[0] > rules.limits.json_file_bytes:      # a .json file is decoded whole: not read
                    collector.problem(0, over("json_file_bytes", f"is {sig[0]:,} bytes", rules.limits))
                    return collector.result()
                else:
                    data = handle.read(sig[0] + 1)
                    after = os.fstat(handle.fileno())
                    steady = len(data) == sig[0] and signature(after)[:2] == sig[:2]
                    if steady:
                        _scan_json(data, collector)
            except OSError as exc:
                return unreadable(path, exc)
        if steady:
            return collector.result()
        time.sleep(0.05 * (attempt + 1))
    return unreadable(path, OSError(0, "it kept being rewritten while feedpub read it; it is read again next run"))


def unreadable(path: str, exc: OSError) -> FileScan:
    """A file that cannot be read: one problem, no records (and a signature that never matches)."""
    message = f"cannot be read: {exc.strerror or exc} (expected a readable file)"
    return FileScan(path, (0, 0, 0, 0), 0.0, 0, [(0, None, message)], [])


def _same_head(handle, resume: Resume, head, size: int) -> bool:
    """Whether the file's first resume.offset bytes hash to resume.head (hashed into head, the
    handle then at that offset)."""
    if size < resume.offset:
        return False
    buf = bytearray(CHUNK)
    left = resume.offset
    with memoryview(buf) as view:
        while left:
            n = handle.readinto(view[:min(CHUNK, left)])
            if not n:
                return False
            head.update(view[:n])
            left -= n
    return head.copy().digest() == resume.head


def _scan_jsonl(handle, collector: _Collector, limit: int, max_line: int, start: tuple[int, int] = (0, 1),
                head=None) -> int:
    """Feed runs of whole lines among the first `limit` bytes to the collector, read about CHUNK
    bytes at a time into one reused buffer (fresh buffers cost page faults; a memory map would die
    of SIGBUS if the file were truncated by its writer meanwhile). Returns the bytes read.

    start: the offset and line number the handle is at. head: a hash of the bytes before start,
    fed every byte read; when the read ends at a newline, the collector's resume point is set.

    Bytes a writer appends after the run opened the file are left for the next run; an
    unterminated last line that is not a whole record is left too if the file is still growing.
    A line longer than max_line bytes (jsonl_line_bytes) is that line's error: it is read
    through to its end in the same buffer, never held whole.
    """
    buf = bytearray(CHUNK)
    filled = 0                          # bytes held in buf
    offset, line = start                # file offset of buf[0]; the line it starts
    while True:
        if filled == len(buf):          # a line longer than the buffer: grow it, up to the limit
            if len(buf) > max_line:
                head = None             # bytes skipped unhashed: no resume point
                length, filled = _skip_line(handle, buf, filled, limit - offset)
                collector.too_long(line, length)
                line += 1
                offset += length + 1
                if offset > limit:
                    return limit
                continue
            buf.extend(bytes(min(len(buf), max_line + 1 - len(buf))))
        want = min(len(buf) - filled, limit - offset - filled)
        with memoryview(buf) as view:
            n = handle.readinto(view[filled:filled + want]) if want > 0 else 0
        filled += n
        if not filled:                                 # read to a newline (or nothing at all)
            if head is not None:
                collector.resume = (offset, line, head.digest())
            return offset
        cut = buf.rfind(b"\n", 0, filled) + 1
        if cut == 0 and n:
            continue
        skip = 3 if offset == 0 and buf.startswith(BOM) else 0
        if cut > skip:
            find = buf.find
            starts = [0]
            nl = find(b"\n", skip, cut)
            while nl != -1:
                starts.append(nl + 1 - skip)
                nl = find(b"\n", nl + 1, cut)
            with memoryview(buf) as view, view[skip:cut] as block:
                line += collector.add_block(block, line, offset + skip, starts, max_line)
        else:
            cut = max(cut, skip)
        if head is not None:
            with memoryview(buf) as view:
                head.update(view[:cut])
        if not n:                                      # end of what was there: an unterminated tail
            tail = bytes(buf[cut:filled])
            taken = False
            if len(tail) > max_line:
                collector.too_long(line, len(tail))
                taken = True
            elif tail.strip():
                taken = collector.add_tail(line, offset + cut, tail, lambda: _grew(handle, offset + filled))
            if head is not None and not taken:         # nothing kept past the last newline: go on from there
                collector.resume = (offset + cut, line, head.digest())
            return offset + filled
        rest = buf[cut:filled]
        buf[:len(rest)] = rest
        filled -= cut
        offset += cut


def _skip_line(handle, buf: bytearray, filled: int, left: int) -> tuple[int, int]:
    """Read on past a line that fills buf (none of it kept) to its newline, or to `left` bytes
    from buf[0]. Returns the line's length and how many bytes after its newline buf now holds."""
    length = filled
    with memoryview(buf) as view:
        while length < left:
            n = handle.readinto(view[:min(len(buf), left - length)])
            if not n:
                break
            newline = buf.find(b"\n", 0, n)
            if newline >= 0:
                rest = n - newline - 1
                buf[:rest] = buf[newline + 1:n]
                return length + newline, rest
            length += n
    return length, 0


WRITING_SECONDS = 2.0        # a file modified this recently may be in the middle of a write


def _grew(handle, size: int) -> bool:
    """A writer is busy with the file: it is longer now than what was read, or it was modified a
    moment ago (a writer between two halves of a line). Such a file is read again next run."""
    try:
        st = os.fstat(handle.fileno())
    except OSError:
        return False
    return st.st_size > size or time.time() - st.st_mtime < WRITING_SECONDS


def _scan_json(data: bytes, collector: _Collector) -> None:
    data = without_bom(data)
    try:
        records = json_file_records(data)
    except BadRecord as bad:
        collector.problem(_line_of(data, str(bad)), str(bad))
        return
    if collector.thorough:
        collector.warn_duplicates(0, data)
    for index, record in enumerate(records, 1):
        if isinstance(record, BadRecord):
            collector.problem(index, str(record))
        else:
            collector.add_object(index, -1, record)


def _line_of(data: bytes, message: str) -> int:
    """Text line of a decoding problem, when the decoder said where it is."""
    try:
        msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        text = str(exc)
        if "UTF-8" in text:
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as bad:
                return data.count(b"\n", 0, bad.start) + 1
        if "(byte " in text:
            try:
                return data.count(b"\n", 0, int(text.rsplit("(byte ", 1)[1].rstrip(")"))) + 1
            except ValueError:
                pass
    except RecursionError:
        pass
    return 1
