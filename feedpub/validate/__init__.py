"""Check feed files themselves: the library behind `feedpub validate OUT`.

Nothing here knows how feedpub builds a feed. Every file under OUT is read back
as bytes and judged by the published rules of its format:

- XML files: well-formed XML 1.0 in an encoding it declares;
- RSS 2.0 (root rss version="2.0"), with the RSS Board's RSS Profile and the
  extensions feedpub writes (atom:link, content:encoded, dc:creator, Media RSS);
  HTML written unescaped inside a text element is an error, as readers keep
  only its text;
- Atom 1.0 (root atom:feed, or an Atom Entry Document): RFC 4287;
- JSON Feed 1.1 and 1.0 (*.json naming https://jsonfeed.org/version/1.1 or
  /version/1), each by its own version's rules.

A file that should be a feed but is none of these is an error, never skipped,
and so is a folder or a feed file that cannot be read.

Every finding names its source (``[RFC 4287 §4.2.6]``, ``[RSS 2.0 <enclosure>]``,
``[JSON Feed 1.1 items]``). Some rules are feedpub's own, stricter than the
formats because common readers break without them or because feedpub always
does better: UTF-8 with an XML declaration, no DOCTYPE, an RSS item with a
title, link, guid and pubDate, an Atom entry with <published>, numeric
offsets and 4-digit years in RSS dates, absolute http(s) URLs. They are
labelled "feedpub rule" instead of "error", and ``spec_only=True``
(``feedpub validate --spec-only``) leaves them out, for feeds feedpub did not
write. With expect_offset every date must be written in that UTC offset, the
only way to catch local wall-clock time labelled GMT or Z.

Messages name the element (with the item's index and id) and say what was
expected; str() of a Finding prefixes the file and appends the source, e.g.
    vi/rss.xml: item 3 (https://x/id/abc): pubDate "Thu, 03 Dec 2021 23:30:00 +0700"
    has the wrong weekday (expected Fri) [RSS 2.0 date-times (RFC 822 §5)]

Modules: files (walking, identifying, summarising), xml (bytes to a tree),
rss and rssext, atom and atomparts, jsonfeed, and the shared dates, values
(URIs, language tags, MIME types, e-mail) and report (Finding, FileResult).
"""
from .files import format_results, validate_bytes, validate_output
from .report import FileResult, Finding

__all__ = ["FileResult", "Finding", "format_results", "validate_bytes", "validate_output"]
