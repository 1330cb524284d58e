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
import time
import unicodedata
from array import array
from pathlib import Path
from typing import Any, Iterator, NamedTuple

import msgspec

from . import validate as v
from .config import Config
from .dates import parse_datetime
from .errors import DateError, RecordError
from .jsonrecords import BOM, BadRecord, decode_one, duplicate_keys, json_file_records, without_bom
from .sources import open_record_file, signature
from .text import ILLEGAL_XML as _ILLEGAL, printable
from .urls import PLAIN_ROOT_PATH as _ROOT_PATH, origin as _origin

CHUNK = 1 << 20
MARGIN = 16          # extra candidates kept per list, so a few cross-file duplicate ids never starve a feed


class Rank(msgspec.Struct, array_like=True, frozen=True):
    """What ranks one valid, non-draft record: enough to pick the winners."""

    ts: float                  # published, as a Unix timestamp
    id: str
    lang: str
    line: int                  # line (JSONL) or 1-based record index (JSON)
    offset: int                # byte offset of the line in a JSONL file, -1 in a JSON file
    cats: tuple[str, ...] = ()
    key: str | None = None     # translation_key


class Trans(msgspec.Struct, array_like=True, frozen=True):
    """A published version of a story in one language (records sharing a translation_key)."""

    key: str
    lang: str
    id: str
    path: str                  # where the record is, so its title can be fetched
    line: int
    offset: int
    url: str
    title: str                 # filled in once the record is loaded
    ts: float


class FileScan(msgspec.Struct):
    """Everything a build needs to remember about one record file.

    The per-record index is kept in columns (parallel lists), the compact
    shape for a few hundred thousand records: ids and lines of every valid
    record, and for records with a translation_key its key, language, URL,
    published time and position in `ids`.
    """

    path: str                                 # relative to the site directory, POSIX
    sig: tuple[int, int, int, int]            # size, mtime_ns, inode, ctime_ns: changed file = rescan
    scan_ts: float                            # "now" of the scan: ranks hold records published by then
    complete: bool                            # ranks hold every published record, not just the top
    ids: list[str]                            # every valid record, drafts included
    lines: bytes                              # array('I') of the line of each id
    ranks: list[Rank]                         # top candidates published by scan_ts
    future: list[Rank]                        # every record published after scan_ts
    t_index: bytes                            # translation columns: array('I') position in ids ...
    t_key: list[str]
    t_lang: bytes                             # ... index into `langs` ...
    t_url: list[str]
    t_ts: bytes                               # ... array('d') published timestamp ...
    t_offset: bytes                           # ... array('q') byte offset (-1 in a JSON file)
    errors: list[str]
    warnings: list[str]
    records: int = 0                          # valid records seen
    langs: list[str] = []                     # the codes t_lang indexes

    def line_numbers(self) -> array:
        return _array("I", self.lines)

    def translations(self) -> Iterator[tuple[int, str, str, str, float, int]]:
        """(position in ids, key, language, url, published, offset) of every record with a translation_key."""
        langs = self.langs
        return zip(_array("I", self.t_index), self.t_key, (langs[i] for i in self.t_lang), self.t_url,
                   _array("d", self.t_ts), _array("q", self.t_offset))


class _Img(msgspec.Struct):
    url: str
    caption: str | None = None
    type: str | None = None
    length: int | None = None


class _Author(msgspec.Struct):
    name: str
    email: str | None = None
    uri: str | None = None


class _Strict(msgspec.Struct):
    """Typed partial decoder: every field's JSON type checked in C, bodies kept as raw JSON."""

    id: str
    lang: str
    title: str
    url: str
    published: str | int | float
    updated: str | int | float | None = None
    summary: msgspec.Raw = msgspec.Raw(b"null")
    content: msgspec.Raw = msgspec.Raw(b"null")
    author: str | _Author | None = None
    categories: list[str] | None = None
    image: _Img | None = None
    translation_key: str | None = None
    draft: bool | None = None


_FAST = msgspec.json.Decoder(_Strict)


def _array(typecode: str, data: bytes) -> array:
    result = array(typecode)
    result.frombytes(data)
    return result
_IMAGE_KEYS = frozenset(("url", "caption", "type", "length"))
_STRING_OR_NULL = (ord('"'), ord("n"))
_ANY = msgspec.json.Decoder()


class _Ok(NamedTuple):
    """A valid record's ranking fields (a tuple: one is made per record)."""

    ts: float
    id: str
    lang: str
    cats: tuple[str, ...]
    key: str | None
    url: str
    draft: bool


def _fast_check(rec: _Strict, languages, base_url: str, tz, origin: str, order: str) -> _Ok | None:
    """Accept a record whose every field is valid, or return None to take the full validator.

    The same rules as validate.validate_record, written for speed on a record
    whose JSON types msgspec already checked; anything unusual (control
    characters, padded ids, odd dates, relative paths with dots) goes to the
    full validator, which reports it.
    """
    ident, title, image, cats = rec.id, rec.title, rec.image, rec.categories
    if (not ident or rec.lang not in languages or len(ident) > v.MAX_ID_LENGTH or not ident.isprintable()
            or ident[0] == " " or ident[-1] == " "):
        return None
    text = ident + title
    if image is not None and image.caption is not None:
        text += image.caption
    if cats:
        text += "".join(cats)
    if _ILLEGAL.search(text):
        return None
    if not title or title.isspace():
        return None
    try:
        url = rec.url
        url = origin + url if _ROOT_PATH.fullmatch(url) and "/." not in url else v.check_url(url, base_url)
        published = parse_datetime(rec.published, tz, order=order)[0]
        if rec.updated is not None:
            parse_datetime(rec.updated, tz, order=order)
        author = rec.author
        if author is not None and type(author) is not str:
            v.check_author({"name": author.name, "email": author.email, "uri": author.uri}, base_url)
        if image is not None:
            url_ = image.url
            if not (_ROOT_PATH.fullmatch(url_) and "/." not in url_):
                v.check_url(url_, base_url)
            mime = image.type
            if (mime is not None and mime not in _GOOD_MIME and not _mime_ok(mime)) or (
                    image.length is not None and image.length < 0):
                return None
    except (v._Problem, DateError):
        return None
    if cats:
        names = _CATEGORY_LISTS.get(tuple(cats))
        if names is None:
            names = _clean_categories(cats)
            if names is None:
                return None
        cats = names
    key = rec.translation_key
    if key is not None:
        key = key.strip()
        if not key:
            return None
    if memoryview(rec.summary)[0] not in _STRING_OR_NULL or memoryview(rec.content)[0] not in _STRING_OR_NULL:
        return None
    return _Ok(published.timestamp(), ident, rec.lang, cats or (), key, url, bool(rec.draft))


_GOOD_MIME: set[str] = set()
_CATEGORY_LISTS: dict[tuple[str, ...], tuple[str, ...]] = {}


def _mime_ok(mime: str) -> bool:
    if v._MIME.match(mime.lower()):
        if len(_GOOD_MIME) < 256:
            _GOOD_MIME.add(mime)
        return True
    return False


def _clean_categories(cats: list[str]) -> tuple[str, ...] | None:
    """Whitespace-normalised, de-duplicated category names (remembered: sites reuse a few lists)."""
    names: list[str] = []
    for cat in cats:
        cat = unicodedata.normalize("NFC", " ".join(cat.split()))
        if not cat:
            return None
        if cat not in names:
            names.append(cat)
    result = tuple(names)
    if len(_CATEGORY_LISTS) < 4096:
        _CATEGORY_LISTS[tuple(cats)] = result
    return result


class _Collector:
    """Keeps the newest candidates of one file while its records stream past."""

    def __init__(self, path: str, sig, config: Config, now_ts: float, keep_all: bool, thorough: bool):
        self.path, self.sig, self.config, self.now_ts = path, sig, config, now_ts
        self.tz, self.order = config.tz, config.date_order
        self.limit = None if keep_all else config.max_items + MARGIN
        self.heaps: dict[Any, list] = {}
        self.all_ranks: list[Rank] = []
        self.overflow = False
        self.ids: list[str] = []
        self.lines = array("I")
        self.future: list[Rank] = []
        self.t_index = array("I")
        self.t_key: list[str] = []
        self.t_lang = bytearray()
        self.t_url: list[str] = []
        self.t_ts = array("d")
        self.t_offset = array("q")
        self.by_category = config.category_feeds
        self.langs = sorted(config.languages)
        self.lang_index = {code: i for i, code in enumerate(self.langs)}
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.thorough = thorough
        self.languages, self.base_url = frozenset(config.languages), config.base_url
        self.origin = _origin(config.base_url)

    def add_block(self, block, first_line: int, first_offset: int, starts: list[int]) -> int:
        """A run of whole JSONL lines (bytes or a memoryview), decoded in one call when every line
        is clean; starts holds each line's offset in block, then len(block) + 1. Returns the line count."""
        records = None
        if not self.thorough:
            try:
                records = _FAST.decode_lines(block)
            except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
                records = None
        if records is None or len(records) != len(starts) - 1:
            for i in range(len(starts) - 1):
                text = bytes(block[starts[i]:starts[i + 1] - 1])
                if text.strip():
                    self.add_raw(first_line + i, first_offset + starts[i], text)
            return len(starts) - 1
        languages, base_url, tz, origin, order = self.languages, self.base_url, self.tz, self.origin, self.order
        for i, rec in enumerate(records):
            ok = _fast_check(rec, languages, base_url, tz, origin, order)
            if ok is None:
                self.add_raw(first_line + i, first_offset + starts[i], bytes(block[starts[i]:starts[i + 1] - 1]))
            else:
                self._accept(ok, first_line + i, first_offset + starts[i])
        return len(starts) - 1

    def error(self, line: int, message: str) -> None:
        self.errors.append(str(RecordError(self.path, line, None, message)))

    def warn_duplicates(self, line: int, text: bytes) -> None:
        for key in duplicate_keys(text):
            where = f"{self.path}:{line}" if line else self.path
            self.warnings.append(printable(f'{where}: key "{key}" appears more than once in one object; '
                                           "the last value was used"))

    def add_raw(self, line: int, offset: int, data: bytes) -> None:
        """Decode one record's JSON text, fast when it is clean, thoroughly when it is not."""
        ok = None
        if not self.thorough:
            try:
                ok = _fast_check(_FAST.decode(data), self.languages, self.base_url, self.tz, self.origin,
                                 self.order)
            except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
                pass
        if ok is None:
            try:
                obj = decode_one(data)
            except BadRecord as bad:
                self.error(line, str(bad))
                return
            if self.thorough:
                self.warn_duplicates(line, data)
            self.add_object(line, offset, obj)
            return
        self._accept(ok, line, offset)

    def add_tail(self, line: int, offset: int, data: bytes, grew) -> None:
        """The last line of a file that has no newline yet: a record if it is one; if it is not
        JSON and the file is still growing, half a record its writer is busy with (left for later)."""
        try:
            decode_one(data)
        except BadRecord:
            if grew():
                return
        self.add_raw(line, offset, data)

    def add_object(self, line: int, offset: int, obj: Any) -> None:
        article, errors, warnings = v.validate_record(
            obj, self.path, line, languages=self.config.languages, base_url=self.config.base_url, tz=self.tz,
            order=self.order)
        self.errors.extend(str(e) for e in errors)
        if article is None:
            return
        if self.thorough:
            self.warnings.extend(warnings)
        self._accept(_Ok(article.published.timestamp(), article.id, article.lang, article.categories,
                         article.translation_key, article.url, article.draft), line, offset)

    def _accept(self, ok: _Ok, line: int, offset: int) -> None:
        ts, ident, lang, cats, key, url, draft = ok
        if key is not None and not draft:
            self.t_index.append(len(self.ids))
            self.t_key.append(key)
            self.t_lang.append(self.lang_index[lang])
            self.t_url.append(url)
            self.t_ts.append(ts)
            self.t_offset.append(offset)
        self.ids.append(ident)
        self.lines.append(line)
        if draft:
            return
        if ts > self.now_ts:
            self.future.append(Rank(ts, ident, lang, line, offset, cats, key))
        elif self.limit is None:
            self.all_ranks.append(Rank(ts, ident, lang, line, offset, cats, key))
        elif cats and self.by_category:
            rank = None
            for heap_key in (lang, *((lang, cat) for cat in cats)):
                heap = self.heaps.get(heap_key)
                if heap is not None and len(heap) >= self.limit:
                    low = heap[0]
                    if ts < low[0] or (ts == low[0] and (ident, line) <= (low[1], low[2])):
                        self.overflow = True
                        continue
                if rank is None:
                    rank = Rank(ts, ident, lang, line, offset, cats, key)
                self._push(heap_key, ts, ident, line, rank)
        else:
            heap = self.heaps.get(lang)
            if heap is not None and len(heap) >= self.limit:
                low = heap[0]
                if ts < low[0] or (ts == low[0] and (ident, line) <= (low[1], low[2])):
                    self.overflow = True
                    return
            self._push(lang, ts, ident, line, Rank(ts, ident, lang, line, offset, cats, key))

    def _push(self, heap_key, ts: float, ident: str, line: int, rank: Rank) -> None:
        """Offer a candidate to one feed's heap of the newest `limit`."""
        heap = self.heaps.get(heap_key)
        if heap is None:
            heap = self.heaps[heap_key] = []
        if len(heap) < self.limit:
            heapq.heappush(heap, (ts, ident, line, rank))
            return
        self.overflow = True
        low = heap[0]
        if ts > low[0] or (ts == low[0] and (ident, line) > (low[1], low[2])):
            heapq.heapreplace(heap, (ts, ident, line, rank))

    def result(self) -> FileScan:
        if self.limit is None:
            ranks = self.all_ranks
        else:
            unique = {item[2]: item[3] for heap in self.heaps.values() for item in heap}
            ranks = [unique[k] for k in sorted(unique)]
        return FileScan(self.path, self.sig, self.now_ts, not self.overflow, self.ids, self.lines.tobytes(),
                        ranks, self.future, self.t_index.tobytes(), self.t_key, bytes(self.t_lang), self.t_url,
                        self.t_ts.tobytes(), self.t_offset.tobytes(), self.errors, self.warnings, len(self.ids),
                        self.langs)


def _scan_jsonl(handle, collector: _Collector, limit: int) -> int:
    """Feed runs of whole lines among the first `limit` bytes to the collector, read about CHUNK
    bytes at a time into one reused buffer (fresh buffers cost page faults; a memory map would die
    of SIGBUS if the file were truncated by its writer meanwhile). Returns the bytes read.

    Bytes a writer appends after the run opened the file are left for the next run; an
    unterminated last line that is not a whole record is left too if the file is still growing.
    """
    buf = bytearray(CHUNK)
    filled = offset = 0                 # bytes held in buf; file offset of buf[0]
    line = 1
    while True:
        if filled == len(buf):          # a line longer than the buffer: grow it
            buf.extend(bytes(len(buf)))
        want = min(len(buf) - filled, limit - offset - filled)
        with memoryview(buf) as view:
            n = handle.readinto(view[filled:filled + want]) if want > 0 else 0
        filled += n
        if not filled:
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
                line += collector.add_block(block, line, offset + skip, starts)
        else:
            cut = skip if cut < skip else cut
        if not n:                                      # end of what was there: an unterminated tail
            tail = bytes(buf[cut:filled])
            if tail.strip():
                collector.add_tail(line, offset + cut, tail, lambda: _grew(handle, offset + filled))
            return offset + filled
        rest = buf[cut:filled]
        buf[:len(rest)] = rest
        filled -= cut
        offset += cut


def _grew(handle, size: int) -> bool:
    """The file is longer now than what was read: a writer is appending."""
    try:
        return os.fstat(handle.fileno()).st_size > size
    except OSError:
        return False


def scan_file(site_dir: Path, path: str, config: Config, now_ts: float, *,
              keep_all: bool = False, thorough: bool = False) -> FileScan:
    """Scan one record file; unreadable or malformed files become error lines, never exceptions.

    keep_all keeps every candidate instead of the top ones; thorough validates
    every record with the full validator and collects its warnings too. A file
    rewritten or truncated while it was read is read again (a few times); one
    that only grew keeps what was there when it was opened.
    """
    full = Path(site_dir) / path
    for attempt in range(READ_ATTEMPTS):
        try:
            handle = open(open_record_file(full), "rb")
        except OSError as exc:
            return _unreadable(path, exc)
        with handle:
            sig = signature(os.fstat(handle.fileno()))
            collector = _Collector(path, sig, config, now_ts, keep_all, thorough)
            try:
                if path.endswith(".jsonl"):
                    got = _scan_jsonl(handle, collector, sig[0])
                    after = os.fstat(handle.fileno())
                    steady = got == sig[0] and after.st_size >= sig[0]
                else:
                    data = handle.read(sig[0] + 1)
                    after = os.fstat(handle.fileno())
                    steady = len(data) == sig[0] and signature(after)[:2] == sig[:2]
                    if steady:
                        _scan_json(data, collector)
            except OSError as exc:
                return _unreadable(path, exc)
        if steady:
            return collector.result()
        time.sleep(0.05 * (attempt + 1))
    return _unreadable(path, OSError(0, "it kept being rewritten while feedpub read it; it is read again "
                                        "next run"))


READ_ATTEMPTS = 3


def _scan_json(data: bytes, collector: _Collector) -> None:
    data = without_bom(data)
    try:
        records = json_file_records(data)
    except BadRecord as bad:
        try:
            _ANY.decode(data)
        except msgspec.DecodeError as exc:
            collector.error(_line_of(exc, data), str(bad))
        else:
            collector.error(1, str(bad))
        return
    if collector.thorough:
        collector.warn_duplicates(0, data)
    for index, record in enumerate(records, 1):
        if isinstance(record, BadRecord):
            collector.error(index, str(record))
        else:
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
    return FileScan(path, (0, 0, 0, 0), 0.0, True, [], b"", [], [], b"", [], b"", [], b"", b"", [message], [])


PARALLEL_BYTES = 32 << 20      # below this, starting a second process costs more than it saves
_JOB: tuple | None = None


def _worker_init(parent: int, inherited: tuple[int, ...]) -> None:
    """A scan worker must not outlive its run nor keep the run's output lock alive."""
    for fd in inherited:
        try:
            os.close(fd)
        except OSError:
            pass
    try:
        import ctypes
        import signal
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(0)


def _scan_job(path: str) -> bytes:
    site_dir, config, now_ts = _JOB
    return msgspec.msgpack.encode(scan_file(site_dir, path, config, now_ts))


def scan_files(site_dir: Path, paths: list[str], config: Config, now_ts: float, *,
               close_in_workers: tuple[int, ...] = (), while_waiting=None,
               encoded: dict[str, bytes] | None = None) -> dict[str, FileScan]:
    """Scan several files, on two processes when there is enough to read and a second core to read it.

    close_in_workers: file descriptors (the output lock) the worker processes must close.
    while_waiting: called in this process while the workers scan (e.g. to import the renderers).
    encoded: if given, receives the msgpack encoding of each scan that crossed from a worker.
    """
    global _JOB
    sizes = {}
    for path in paths:
        try:
            sizes[path] = os.stat(Path(site_dir) / path).st_size
        except OSError:
            sizes[path] = 0
    if len(paths) < 2 or sum(sizes.values()) < PARALLEL_BYTES or (os.cpu_count() or 1) < 2 or os.name != "posix":
        return {path: scan_file(site_dir, path, config, now_ts) for path in paths}
    import multiprocessing
    decoder = msgspec.msgpack.Decoder(FileScan)
    order = sorted(paths, key=lambda p: -sizes[p])              # biggest first: the two workers end together
    _JOB = (site_dir, config, now_ts)
    try:
        with multiprocessing.get_context("fork").Pool(
                2, initializer=_worker_init, initargs=(os.getpid(), close_in_workers)) as pool:
            results = pool.imap(_scan_job, order, chunksize=1)
            if while_waiting is not None:
                while_waiting()
            scans = []
            for blob in results:
                scans.append(decoder.decode(blob))
                if encoded is not None:
                    encoded[scans[-1].path] = blob
    finally:
        _JOB = None
    return {scan.path: scan for scan in scans}
