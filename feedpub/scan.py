"""Read record files and keep only what ranks a record, reporting every bad one.

A scan validates every field of every record, but decodes article bodies only
far enough to know they are strings: a feed can only ever carry the newest
max_items per language (and per category), so each file keeps its top
candidates plus everything scheduled for later. loader.py fetches the bodies
of the final winners afterwards, by byte offset.
"""
from __future__ import annotations

import heapq
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import msgspec

from . import validate as v
from .config import Config
from .errors import RecordError, SiteError

CHUNK = 4 << 20
MARGIN = 16          # extra candidates kept per list, so a few cross-file duplicate ids never starve a feed
BOM = b"\xef\xbb\xbf"
RECORD_SUFFIXES = (".json", ".jsonl")


class Rank(msgspec.Struct, array_like=True, frozen=True):
    """What ranks one valid, non-draft record: enough to pick the winners."""

    ts: float                  # published, as a Unix timestamp
    id: str
    lang: str
    line: int                  # line (JSONL) or 1-based record index (JSON)
    offset: int                # byte offset of the line in a JSONL file, -1 in a JSON file
    cats: tuple[str, ...] = ()


class Trans(msgspec.Struct, array_like=True, frozen=True):
    """A record's place in its story's translations (records with a translation_key)."""

    key: str
    lang: str
    id: str
    line: int
    url: str
    title: str
    ts: float


class FileScan(msgspec.Struct):
    """Everything a build needs to remember about one record file."""

    path: str                                 # relative to the site's articles/ parent, POSIX
    sig: tuple[int, int, int]                 # size, mtime_ns, inode: changed file = rescan
    scan_ts: float                            # "now" of the scan: ranks hold records published by then
    complete: bool                            # ranks hold every published record, not just the top
    ids: list[tuple[str, int]]                # (id, line) of every valid record, drafts included
    ranks: list[Rank]                         # top candidates published by scan_ts
    future: list[Rank]                        # every record published after scan_ts
    trans: list[Trans]
    errors: list[str]
    warnings: list[str]
    records: int = 0                          # valid records seen


class _Fast(msgspec.Struct):
    """Typed partial decoder: small fields decoded, bodies kept as raw JSON."""

    id: Any = None
    lang: Any = None
    title: Any = None
    url: Any = None
    published: Any = None
    updated: Any = None
    summary: msgspec.Raw = msgspec.Raw(b"null")
    content: msgspec.Raw = msgspec.Raw(b"null")
    author: Any = None
    categories: Any = None
    image: Any = None
    translation_key: Any = None
    draft: Any = None


_FAST = msgspec.json.Decoder(_Fast)
_STRING_OR_NULL = (ord('"'), ord("n"))
_ANY = msgspec.json.Decoder()


@dataclass(frozen=True, slots=True)
class _Ok:
    ts: float
    id: str
    lang: str
    cats: tuple[str, ...]
    key: str | None
    url: str
    title: str
    draft: bool


def record_files(site_dir: Path) -> list[tuple[str, Path]]:
    """Every *.json / *.jsonl under SITE/articles, sorted by relative path (the order duplicates are judged in)."""
    root = Path(site_dir) / "articles"
    if not root.is_dir():
        raise SiteError(f"{root}: not a directory (expected the site's articles/ folder)")
    found = []
    try:
        for dirpath, dirnames, filenames in os.walk(root, onerror=_raise):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in filenames:
                if name.endswith(RECORD_SUFFIXES) and not name.startswith("."):
                    full = Path(dirpath, name)
                    found.append((full.relative_to(site_dir).as_posix(), full))
    except OSError as exc:
        raise SiteError(f"{exc.filename}: cannot be read: {exc.strerror}") from None
    found.sort()
    return found


def _raise(exc: OSError) -> None:
    raise exc


def signature(st: os.stat_result) -> tuple[int, int, int]:
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def _fast_check(rec: _Fast, config: Config, tz) -> _Ok | None:
    """Accept a record whose every field is valid, or return None to take the slow path."""
    try:
        ident = v.check_id(rec.id)
        lang = v.check_lang(rec.lang, config.languages)
        title = v.check_title(rec.title)
        url = v.check_url(rec.url, config.base_url)
        published = v.check_date(rec.published, tz)
        if rec.updated is not None:
            v.check_date(rec.updated, tz)
        v.check_author(rec.author, config.base_url)
        cats = v.check_categories(rec.categories)
        v.check_image(rec.image, config.base_url)
        key = v.check_translation_key(rec.translation_key)
        draft = v.check_draft(rec.draft)
    except v._Problem:
        return None
    if memoryview(rec.summary)[0] not in _STRING_OR_NULL or memoryview(rec.content)[0] not in _STRING_OR_NULL:
        return None
    return _Ok(published.timestamp(), ident, lang, cats, key, url, title, draft)


class _Collector:
    """Keeps the newest candidates of one file while its records stream past."""

    def __init__(self, path: str, sig, config: Config, now_ts: float, keep_all: bool, thorough: bool):
        self.path, self.sig, self.config, self.now_ts = path, sig, config, now_ts
        self.tz = config.tz
        self.limit = None if keep_all else config.max_items + MARGIN
        self.heaps: dict[Any, list] = {}
        self.all_ranks: list[Rank] = []
        self.overflow = False
        self.ids: list[tuple[str, int]] = []
        self.future: list[Rank] = []
        self.trans: list[Trans] = []
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.records = 0
        self.thorough = thorough

    def error(self, line: int, message: str) -> None:
        self.errors.append(str(RecordError(self.path, line, None, message)))

    def add_raw(self, line: int, offset: int, data: bytes) -> None:
        """Decode one record's JSON text, fast when it is clean, thoroughly when it is not."""
        ok = None
        if not self.thorough:
            try:
                ok = _fast_check(_FAST.decode(data), self.config, self.tz)
            except (msgspec.DecodeError, msgspec.ValidationError):
                pass
        if ok is None:
            try:
                obj = _ANY.decode(data)
            except msgspec.DecodeError as exc:
                self.error(line, _json_problem(exc, data))
                return
            self.add_object(line, offset, obj)
            return
        self._accept(ok, line, offset)

    def add_object(self, line: int, offset: int, obj: Any) -> None:
        article, errors, warnings = v.validate_record(
            obj, self.path, line, languages=self.config.languages, base_url=self.config.base_url, tz=self.tz)
        self.errors.extend(str(e) for e in errors)
        if article is None:
            return
        if self.thorough:
            self.warnings.extend(warnings)
        self._accept(_Ok(article.published.timestamp(), article.id, article.lang, article.categories,
                         article.translation_key, article.url, article.title, article.draft), line, offset)

    def _accept(self, ok: _Ok, line: int, offset: int) -> None:
        self.records += 1
        self.ids.append((ok.id, line))
        if ok.draft:
            return
        rank = Rank(ok.ts, ok.id, ok.lang, line, offset, ok.cats)
        if ok.key is not None:
            self.trans.append(Trans(ok.key, ok.lang, ok.id, line, ok.url, ok.title, ok.ts))
        if ok.ts > self.now_ts:
            self.future.append(rank)
        elif self.limit is None:
            self.all_ranks.append(rank)
        else:
            self._push(ok.lang, rank)
            for cat in ok.cats:
                self._push((ok.lang, cat), rank)

    def _push(self, key: Any, rank: Rank) -> None:
        heap = self.heaps.setdefault(key, [])
        item = (rank.ts, rank.id, rank.line, rank)
        if len(heap) < self.limit:
            heapq.heappush(heap, item)
        else:
            self.overflow = True
            if item[:3] > heap[0][:3]:
                heapq.heapreplace(heap, item)

    def result(self) -> FileScan:
        if self.limit is None:
            ranks = self.all_ranks
        else:
            unique = {item[2]: item[3] for heap in self.heaps.values() for item in heap}
            ranks = [unique[k] for k in sorted(unique)]
        return FileScan(self.path, self.sig, self.now_ts, not self.overflow, self.ids, ranks,
                        self.future, self.trans, self.errors, self.warnings, self.records)


def _json_problem(exc: Exception, data: bytes) -> str:
    text = str(exc)
    if "UTF-8" in text:
        return "not UTF-8 text (expected a UTF-8 encoded JSON record)"
    return f"not valid JSON: {text} (expected one JSON object)"


def _jsonl_lines(handle) -> Iterator[tuple[int, int, bytes]]:
    """(line number, byte offset, bytes) of every line, read in bounded chunks."""
    lineno = offset = 0
    rest = b""
    while chunk := handle.read(CHUNK):
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        for text in lines:
            lineno += 1
            yield lineno, offset, text
            offset += len(text) + 1
    if rest:
        yield lineno + 1, offset, rest


def scan_file(site_dir: Path, path: str, config: Config, now_ts: float, *,
              keep_all: bool = False, thorough: bool = False) -> FileScan:
    """Scan one record file; unreadable or malformed files become error lines, never exceptions.

    keep_all keeps every candidate instead of the top ones; thorough validates
    every record with the full validator and collects its warnings too.
    """
    full = Path(site_dir) / path
    try:
        handle = open(full, "rb")
    except OSError as exc:
        return _unreadable(path, exc)
    with handle:
        sig = signature(os.fstat(handle.fileno()))
        collector = _Collector(path, sig, config, now_ts, keep_all, thorough)
        try:
            if path.endswith(".jsonl"):
                for line, offset, text in _jsonl_lines(handle):
                    if line == 1 and text.startswith(BOM):
                        text = text[3:]
                    if text.strip():
                        collector.add_raw(line, offset, text)
            else:
                _scan_json(handle.read(), collector)
        except OSError as exc:
            return _unreadable(path, exc)
    return collector.result()


def _scan_json(data: bytes, collector: _Collector) -> None:
    if data.startswith(BOM):
        data = data[3:]
    try:
        obj = _ANY.decode(data)
    except msgspec.DecodeError as exc:
        collector.error(_line_of(exc, data), _json_problem(exc, data))
        return
    records = obj if isinstance(obj, list) else [obj]
    for index, record in enumerate(records, 1):
        collector.add_object(index, -1, record)


def _line_of(exc: Exception, data: bytes) -> int:
    """Text line of a decode error's byte position, when the message gives one."""
    text = str(exc)
    if "UTF-8" in text:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as bad:
            return data.count(b"\n", 0, bad.start) + 1
    if "(byte " in text:
        try:
            pos = int(text.rsplit("(byte ", 1)[1].rstrip(")"))
            return data.count(b"\n", 0, pos) + 1
        except ValueError:
            pass
    return 1


def _unreadable(path: str, exc: OSError) -> FileScan:
    message = str(RecordError(path, 0, None, f"cannot be read: {exc.strerror or exc} (expected a readable file)"))
    return FileScan(path, (0, 0, 0), 0.0, True, [], [], [], [], [message], [])
