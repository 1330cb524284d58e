"""`feedpub init [DIR]`: a new site that builds and validates as it is, to edit from there.

It writes a commented feedpub.toml (every key feedpub reads, with its default and one line saying what
it does; Vietnamese defaults) and one sample record per language, the two linked as translations of
one story. With source="postgresql" the site reads a database instead: feedpub.toml gets a [source]
table naming its URL by an environment variable, and postgresql.sql beside it holds the README's
worked example (the `cms` database, its tables, the view feedpub reads, a read-only role, its grants,
the indexes, a few sample rows) for psql. Nothing that exists is ever overwritten: if any file it
would write is there, it writes none.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .config import DATE_ORDERS, DEFAULT_MAX_ITEMS, DEFAULT_TIMEZONE
from .errors import SiteError
from .htmlpolicy import DEFAULT_ALLOWED_ATTRIBUTES, DEFAULT_ALLOWED_IFRAME_HOSTS, DEFAULT_ALLOWED_TAGS
from .sourceconfig import DEFAULT_CONNECT_TIMEOUT, DEFAULT_QUERY_TIMEOUT

__all__ = ["DATABASE_URL_ENV", "SOURCES", "Scaffold", "config_text", "postgresql_sql", "sample_records", "scaffold"]

SOURCES = ("files", "postgresql")
DATABASE_URL_ENV = "FEEDPUB_DATABASE_URL"
SQL_NAME = "postgresql.sql"
RECORDS_NAME = "articles/sample.jsonl"
BASE_URL = "https://tintuc.example.vn"


def _toml_list(values) -> str:
    return "[" + ", ".join(json.dumps(v) for v in sorted(values)) + "]"


def config_text(source: str = "files") -> str:
    """The commented feedpub.toml of a new site."""
    attributes = "{ " + ", ".join(f"{tag} = {_toml_list(names)}"
                                  for tag, names in sorted(DEFAULT_ALLOWED_ATTRIBUTES.items())) + " }"
    text = f'''\
# feedpub.toml: the settings of one news site. Each key is shown with its default; a line that
# starts with # is not read, so the key takes that default. `feedpub check` judges this file and
# every record; every key feedpub does not know is an error naming the nearest one it does.

[site]
base_url = "{BASE_URL}"       # the site's address (required): record URLs such as /vi/a.html resolve against it, item ids derive from it
# feeds_url = "{BASE_URL}/feeds"   # where the output folder is published (default: base_url + "/feeds")
timezone = "{DEFAULT_TIMEZONE}"              # IANA zone of every date written without an offset (default)
date_order = "{DATE_ORDERS[0]}"                          # numeric dates day first, 02/04/2026 = 2 April (default); "mdy": month first
max_items = {DEFAULT_MAX_ITEMS}                              # the newest N items in each feed (default 50)
title = "Tin tức"                           # the site's name, on the feed pages and in the OPML list (required)
# hub = "https://pubsubhubbub.example/"     # a WebSub hub: advertised in every feed, told when a feed changes (default: none)
category_feeds = true                       # a feed per category as well as per language (default true)

# One table per language of the site; a record's "lang" must name one of them.
[languages.vi]
title = "Tin tức - Tin mới nhất"            # the feed's title (required)
description = "Tin tức mới nhất"           # the feed's description (required)
author = "Ban biên tập"                     # the feed's author (default: none)
# copyright = "© Tin tức"                   # the feed's copyright line (default: none)
# link = "{BASE_URL}/vi/"      # the language's home page (default: base_url + "/vi/")

[languages.en]
title = "News - Latest"
description = "The latest news"
author = "Editorial board"
# copyright = "© News"
# link = "{BASE_URL}/en/"

# [html]                                    # which HTML an article body may keep (default: the allow-list below)
# allowed_tags = {_toml_list(DEFAULT_ALLOWED_TAGS)}   # replaces the allowed tags
# extra_tags = []                           # tags allowed on top of allowed_tags, e.g. ["details", "summary"]
# allowed_attributes = {attributes}   # tag = [attributes], added to these defaults
# iframe_hosts = {_toml_list(DEFAULT_ALLOWED_IFRAME_HOSTS)}   # hosts an <iframe src> may point to
'''
    if source == "postgresql":
        text += f'''
# The records come from a database (see {SQL_NAME} beside this file, and the README's worked example).
[source]
url_env = "{DATABASE_URL_ENV}"     # the environment variable holding the database URL (passwords stay out of this file)
# url = "postgresql://feeds@db.internal/cms"   # or the URL itself; url and url_env are exclusive
table = "feed_articles"                  # the table or view whose columns are the record fields
# query = "SELECT … FROM articles JOIN …"       # or a query with the same columns; table and query are exclusive
connect_timeout = {DEFAULT_CONNECT_TIMEOUT:g}                    # seconds to connect (default {DEFAULT_CONNECT_TIMEOUT:g})
query_timeout = {DEFAULT_QUERY_TIMEOUT:g}                      # seconds per query (default {DEFAULT_QUERY_TIMEOUT:g})
# notify_channel = "feedpub"             # feedpub watch LISTENs here: publish within a second of a commit (see the README)
# [source.columns]                       # record field = column name, for columns named otherwise (default: the field's own name)
# published = "created_at"
'''
    return text


def sample_records() -> list[dict]:
    """One record per language: the same story, linked by its translation_key."""
    return [
        {"id": "vi-chao-mung", "lang": "vi", "title": "Chào mừng đến với trang tin", "url": "/vi/chao-mung.html",
         "published": "01/12/2025 - 08:00", "summary": "Bài viết mẫu đầu tiên của trang.",
         "content": "<p>Đây là <strong>bài viết mẫu</strong>: sửa nó, hoặc thêm bài mới vào articles/.</p>",
         "author": "Ban biên tập", "categories": ["Thông báo"], "translation_key": "chao-mung"},
        {"id": "en-welcome", "lang": "en", "title": "Welcome to the news site", "url": "/en/welcome.html",
         "published": "01/12/2025 - 08:00", "summary": "The site's first sample article.",
         "content": "<p>This is a <strong>sample article</strong>: edit it, or add new ones to articles/.</p>",
         "author": "Editorial board", "categories": ["Announcements"], "translation_key": "chao-mung"},
    ]


def postgresql_sql() -> str:
    """The README's PostgreSQL worked example, every SQL block of it in order: what psql runs."""
    readme = Path(__file__).with_name("scaffold_postgresql.sql")
    return readme.read_text(encoding="utf-8")


@dataclass(frozen=True)
class Scaffold:
    """What init wrote, and what to run next."""

    written: list[Path]
    next_commands: list[str]


def scaffold(site_dir: str | os.PathLike = "data", *, source: str = "files") -> Scaffold:
    """Write a new site into site_dir (created if needed); SiteError, and nothing written, if any of
    its files exists already."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    site = Path(site_dir)
    files: dict[Path, str] = {site / "feedpub.toml": config_text(source)}
    if source == "files":
        files[site / RECORDS_NAME] = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in sample_records())
    else:
        files[site / SQL_NAME] = postgresql_sql()
    existing = [path for path in files if os.path.lexists(path)]
    if existing:
        raise SiteError(f"{existing[0]}: already exists; feedpub init never overwrites a file "
                        "(expected a new or empty folder)")
    written = []
    for path, text in files.items():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "x", encoding="utf-8") as f:        # "x": never replaces a file made meanwhile
                f.write(text)
        except OSError as exc:
            raise SiteError(f"{path}: cannot be written: {exc.strerror or exc}") from None
        written.append(path)
    data = _shell_word(str(site))
    if source == "files":
        steps = [f"feedpub build --data {data} --out public", "feedpub validate public"]
    else:
        steps = [f"sudo -u postgres psql -v ON_ERROR_STOP=1 -f {_shell_word(str(site / SQL_NAME))}",
                 f"export {DATABASE_URL_ENV}='postgresql://feeds:change%20me@localhost/cms'",
                 f"feedpub build --data {data} --out public", "feedpub validate public"]
    return Scaffold(written, steps)


def _shell_word(text: str) -> str:
    return text if re.fullmatch(r"[A-Za-z0-9_./@%+=:,-]+", text) else "'" + text.replace("'", "'\\''") + "'"
