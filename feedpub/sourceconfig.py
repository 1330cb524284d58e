"""The [source] table of feedpub.toml: where the records' database is and how its columns are named.

Pure and light: the standard library only (SQLAlchemy is imported when a source is
opened, not when the config is read). Every problem is a ConfigError naming
`[source] KEY`; a database URL is shown with its password replaced by ***.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from .configrules import reject_unknown
from .errors import ConfigError
from .model import RECORD_FIELDS
from .text import has_illegal_xml, printable

CONFIG_NAME = "feedpub.toml"

# Every field of a record (model.RECORD_FIELDS) is a column of the source, by default of the same name.

REQUIRED_FIELDS = ("id", "lang", "title", "url", "published")
"""The columns a source must have (the required record fields)."""

SOURCE_KEYS = ("url", "url_env", "table", "query", "columns", "connect_timeout", "query_timeout", "notify_channel")

DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_QUERY_TIMEOUT = 30.0
MAX_CONNECT_TIMEOUT = 600
MAX_QUERY_TIMEOUT = 3600

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,62}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CHANNEL = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*)://")
_SECRET_PARAMS = frozenset({"password", "passwd", "pwd", "pass", "sslpassword"})
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://\S+")        # a URL holds no whitespace (_checked_url)
_CONNINFO_SECRET = re.compile(r"\b(password|passwd|pwd|pass|sslpassword)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", re.I)


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """A validated [source] table. `url` holds the password, so it is left out of repr()."""

    url: str | None = field(repr=False)   # the SQLAlchemy URL (a sqlite path made absolute); None: from url_env
    label: str                            # the table's name as written, or "query": the SOURCE of TABLE:ID
    table: str | None                     # a table or view, possibly schema.name
    query: str | None                     # or a SELECT whose result has the record fields as columns
    columns: Mapping[str, str]            # every record field -> its column name
    explicit: frozenset[str] = frozenset()   # fields [source.columns] names: their column must exist
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    query_timeout: float = DEFAULT_QUERY_TIMEOUT
    url_env: str | None = None            # the environment variable holding the URL, read when opened
    site_dir: Path = Path(".")            # a relative sqlite path resolves against it
    notify_channel: str | None = None     # PostgreSQL: `feedpub watch` LISTENs here for the CMS's commits

    @property
    def shown_url(self) -> str:
        """The URL with its password replaced by ***: the only form any message shows."""
        return redact_url(self.url) if self.url is not None else f"${self.url_env}"

    @property
    def dialect(self) -> str:
        """The URL's database without its driver: postgresql, sqlite, mysql, mssql, … ("" before resolve)."""
        return _scheme(self.url or "").split("+", 1)[0].lower()

    def resolve(self, environ: Mapping[str, str] | None = None) -> "SourceConfig":
        """This config with its URL taken from url_env (ConfigError when unset or not a URL)."""
        if self.url is not None:
            return self
        url = ((os.environ if environ is None else environ).get(self.url_env or "") or "").strip()
        if not url:
            raise ConfigError(f"{_where('url_env')}: the environment variable {self.url_env} is not set (expected "
                              "it to hold the database's URL)")
        resolved = replace(self, url=_checked_url(url, "url_env", self.site_dir))
        _channel_needs_postgresql(resolved)
        return resolved


def _where(key: str, table: str = "source") -> str:
    return f"{CONFIG_NAME}: [{table}] {key}"


def redact_url(url: str) -> str:
    """The URL with its password (and any password query parameter) replaced by ***.

    Errs on the side of hiding: everything between the user name and the last @ of
    the authority counts as the password, as SQLAlchemy reads it.
    """
    m = _SCHEME.match(url)
    if m is None:
        return "***" if ("@" in url or ":" in url) else url
    rest = url[m.end():]
    cut = len(rest)
    for mark in "/?#":
        pos = rest.find(mark, rest.rfind("@") + 1 if "@" in rest else 0)
        if pos != -1:
            cut = min(cut, pos)
    authority, tail = rest[:cut], rest[cut:]
    if "@" in authority:
        userinfo, host = authority.rsplit("@", 1)
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":***"
        authority = f"{userinfo}@{host}"
    if "?" in tail:
        path, query = tail.split("?", 1)
        pairs = [(k, "***" if k.lower() in _SECRET_PARAMS else v) for k, v in parse_qsl(query, keep_blank_values=True)]
        tail = path + "?" + "&".join(f"{quote(k, safe='')}={v if v == '***' else quote(v, safe='')}"
                                     for k, v in pairs)
    return f"{m.group(0)}{authority}{tail}"


def redact_text(text: str) -> str:
    """A message with the password of every database URL in it replaced by *** (redact_url), and so
    is any password=… a driver quotes from a connection string: found by parsing what holds a
    password, never by searching the text for the password itself (which may be any word)."""
    text = _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)
    return _CONNINFO_SECRET.sub(lambda m: f"{m.group(1)}=***", text)


def _scheme(url: str) -> str:
    m = _SCHEME.match(url)
    return m.group(1) if m else ""


def _number(table: Mapping, key: str, default: float, limit: int) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= limit:
        raise ConfigError(f"{_where(key)}: {value!r} is not valid (expected a number of seconds, more than 0 "
                          f"and at most {limit})")
    return float(value)


def _text(table: Mapping, key: str) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{_where(key)}: {printable(repr(value))} is not valid (expected a non-empty string)")
    if has_illegal_xml(value) and key != "query":
        raise ConfigError(f"{_where(key)}: holds a control character (expected one line of text)")
    return value.strip()


def _database_url(table: Mapping, site_dir: Path) -> tuple[str | None, str | None]:
    url, env = _text(table, "url"), _text(table, "url_env")
    if url is not None and env is not None:
        raise ConfigError(f"{_where('url_env')}: both url and url_env are set (expected one of them: url_env names "
                          "an environment variable holding the URL, so the password stays out of this file)")
    if url is None and env is None:
        raise ConfigError(f"{_where('url')}: missing (expected the database's URL, such as "
                          "\"postgresql://feeds@db.internal/cms\" or \"sqlite:///cms.db\", or url_env naming an "
                          "environment variable that holds it)")
    if env is not None:
        if not _ENV_NAME.fullmatch(env):
            raise ConfigError(f"{_where('url_env')}: {printable(repr(env))} is not an environment variable name "
                              "(expected letters, digits and _, such as FEEDPUB_DATABASE_URL)")
        return None, env
    return _checked_url(url, "url", site_dir), None


def _checked_url(url: str, key: str, site_dir: Path) -> str:
    if has_illegal_xml(url) or any(c.isspace() for c in url):
        raise ConfigError(f"{_where(key)}: {printable(redact_url(url))} holds whitespace or a control character "
                          "(expected a URL; escape such characters in a password as %XX)")
    if not _scheme(url):
        raise ConfigError(f"{_where(key)}: {printable(redact_url(url))} is not a database URL (expected "
                          "DIALECT[+DRIVER]://…, such as postgresql://user@host/database or sqlite:///cms.db)")
    if _scheme(url).split("+", 1)[0].lower() == "sqlite":
        return _sqlite_url(url, site_dir, key)
    try:                                    # what SQLAlchemy would fail on later with a bare ValueError
        parts = urlsplit(url)
        _ = parts.port, parts.hostname
    except ValueError as exc:
        raise ConfigError(f"{_where(key)}: {printable(redact_url(url))} is not a valid URL: {exc} (expected "
                          "DIALECT[+DRIVER]://USER[:PASSWORD]@HOST[:PORT]/DATABASE, an IPv6 address in brackets, "
                          "a port from 0 to 65535)") from None
    return url


def _sqlite_url(url: str, site_dir: Path, key: str) -> str:
    """sqlite:///relative.db resolves against the site directory; sqlite:////abs/cms.db stays."""
    scheme = url[:url.index("://") + 3]
    rest = url[len(scheme):]
    path, sep, query = rest.partition("?")
    if not path.startswith("/") or path in ("/", "/:memory:") or path.startswith("/file:"):
        raise ConfigError(f"{_where(key)}: {printable(redact_url(url))} does not name a database file (expected "
                          "sqlite:///cms.db, relative to the site directory, or sqlite:////srv/cms/cms.db)")
    file = Path(unquote(path[1:]))
    if not file.is_absolute():
        file = Path(os.path.abspath(Path(site_dir) / file))
    return f"{scheme}/{quote(os.fsencode(file), safe='/')}{sep}{query}"     # a name's bytes, UTF-8 or not


def sqlite_path(url: str) -> str:
    """The file of a sqlite URL as parse_source left it (absolute)."""
    return unquote(url[url.index("://") + 3:].partition("?")[0][1:], errors="surrogateescape")


def _columns(table: Any) -> tuple[dict[str, str], frozenset[str]]:
    if table is None:
        table = {}
    if not isinstance(table, dict):
        raise ConfigError(f"{CONFIG_NAME}: [source.columns] must be a table (expected record field = \"column\", "
                          "such as published = \"created_at\")")
    reject_unknown(table, "source.columns", RECORD_FIELDS)
    columns = {name: name for name in RECORD_FIELDS}
    for name, column in table.items():
        if not isinstance(column, str) or not _IDENTIFIER.fullmatch(column):
            raise ConfigError(f"{_where(name, 'source.columns')}: {printable(repr(column))} is not a column name "
                              "(expected a name of letters, digits, _ and $, not starting with a digit, "
                              "at most 63 characters)")
        columns[name] = column
    return columns, frozenset(table)


def _channel(table: Mapping) -> str | None:
    """notify_channel: a plain identifier, LISTENed to as written (lower case: PostgreSQL folds an
    unquoted name in pg_notify's callers' LISTEN the same way)."""
    value = table.get("notify_channel")
    if value is None:
        return None
    if not isinstance(value, str) or not _CHANNEL.fullmatch(value):
        raise ConfigError(f"{_where('notify_channel')}: {printable(repr(value))} is not a channel name (expected "
                          "lower-case letters, digits and _, not starting with a digit, at most 63 characters, "
                          "such as \"feedpub\")")
    return value


def _channel_needs_postgresql(cfg: SourceConfig) -> None:
    """LISTEN/NOTIFY is PostgreSQL's: a channel for any other database is a mistake, not a no-op."""
    if cfg.notify_channel is not None and cfg.url is not None and cfg.dialect not in ("postgresql", "postgres"):
        raise ConfigError(f"{_where('notify_channel')}: {printable(cfg.shown_url)} is not a PostgreSQL database "
                          "(expected notify_channel only with a postgresql:// URL: other databases have no "
                          "LISTEN/NOTIFY, and `feedpub watch` asks them for changes every few seconds instead)")


def parse_source(table: Mapping, site_dir: Path) -> SourceConfig:
    """Validate the [source] table; a relative sqlite path resolves against site_dir. A url_env is
    read when the source is opened (SourceConfig.resolve), so commands that never open it run without."""
    if not isinstance(table, dict):
        raise ConfigError(f"{CONFIG_NAME}: [source] must be a table (expected url or url_env, and table or query)")
    reject_unknown(table, "source", SOURCE_KEYS)
    url, env = _database_url(table, Path(site_dir))
    name, query = _text(table, "table"), _text(table, "query")
    if name is not None and query is not None:
        raise ConfigError(f"{_where('query')}: both table and query are set (expected one of them)")
    if name is None and query is None:
        raise ConfigError(f"{_where('table')}: missing (expected the table or view whose columns are the record "
                          "fields, such as table = \"feed_articles\", or query = \"SELECT …\")")
    if name is not None and not all(_IDENTIFIER.fullmatch(part) for part in name.split(".", 1)):
        raise ConfigError(f"{_where('table')}: {printable(repr(name))} is not a table name (expected letters, digits, "
                          "_ and $, optionally after a schema and a dot: \"feed_articles\", \"cms.feed_articles\")")
    if query is not None:
        query = query.rstrip().rstrip(";").rstrip()
    columns, explicit = _columns(table.get("columns"))
    cfg = SourceConfig(
        url=url, label=name if name is not None else "query", table=name, query=query,
        columns=MappingProxyType(columns), explicit=explicit,
        connect_timeout=_number(table, "connect_timeout", DEFAULT_CONNECT_TIMEOUT, MAX_CONNECT_TIMEOUT),
        query_timeout=_number(table, "query_timeout", DEFAULT_QUERY_TIMEOUT, MAX_QUERY_TIMEOUT),
        url_env=env, site_dir=Path(site_dir), notify_channel=_channel(table))
    _channel_needs_postgresql(cfg)
    return cfg
