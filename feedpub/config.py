"""Site configuration: feedpub.toml read once into a frozen Config.

Only this module reads feedpub.toml. Every problem is a ConfigError naming the
file, the table and key, and what was expected.
"""
from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .configrules import CONFIG_NAME, reject_unknown
from .errors import ConfigError
from .limits import DEFAULT_LIMITS, DEFAULTS, Limits, over, parse_limits, value_depth
from .opener import CONFIG, read_input
from .text import has_illegal_xml, printable
from .urls import UrlError, prefix_problem, resolve

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
DEFAULT_MAX_ITEMS = 50
DATE_ORDERS = ("dmy", "mdy")      # [site] date_order: numeric dates day first (default) or month first
LANG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


@dataclass(frozen=True, slots=True)
class LanguageConfig:
    code: str
    title: str
    description: str
    link: str                     # the language's home page
    author: str | None = None
    copyright: str | None = None


@dataclass(frozen=True, slots=True)
class Config:
    base_url: str                 # absolute URI, no trailing slash
    feeds_url: str                # where OUT/ is published, URI, no trailing slash (default base_url/feeds)
    timezone: str
    max_items: int
    languages: Mapping[str, LanguageConfig]
    site_title: str = ""
    hub: str | None = None        # WebSub hub
    category_feeds: bool = True
    html_policy: Any = None       # htmlpolicy.HtmlPolicy from the [html] table
    fingerprint: str = ""         # hash of the config file's bytes: state from another config is void
    date_order: str = "dmy"       # numeric dates day first ("dmy") or month first ("mdy")
    id_base: str = ""             # base_url as written (an IRI stays one): item ids derive from it
    feed_id_base: str = ""        # feeds_url as written: feed ids derive from it
    source: Any = None            # database.SourceConfig from the [source] table, or None (records from files)
    limits: Limits = DEFAULT_LIMITS   # limits.py's table, with the [limits] table applied
    publish: Any = None           # publishconfig.PublishConfig from the [publish] table, or None (the defaults)

    def __post_init__(self) -> None:
        if not self.id_base:
            object.__setattr__(self, "id_base", self.base_url)
        if not self.feed_id_base:
            object.__setattr__(self, "feed_id_base", self.feeds_url)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def out_url(self, path: str = "") -> str:
        """Absolute URL of a file under OUT/ as published at feeds_url."""
        return f"{self.feeds_url}/{path}"

    def feed_id(self, path: str) -> str:
        """Atom id of the feed in folder path/ of OUT: feeds_url as written, so it never changes."""
        return f"{self.feed_id_base}/{path}/"


# Every key feedpub reads, per table: anything else is a mistake worth stopping for (a misspelt
# max_items would otherwise do nothing at all).
KNOWN_KEYS: dict[str, tuple[str, ...]] = {
    "": ("site", "languages", "html", "source", "limits", "publish"),   # [source]: sourceconfig.py;
    # [publish], [publish.cache_control]: publishconfig.py
    "site": ("base_url", "feeds_url", "timezone", "date_order", "max_items", "title", "hub", "category_feeds"),
    "languages.*": ("title", "description", "author", "copyright", "link"),
}


def _where(table: str, key: str) -> str:
    return f"{CONFIG_NAME}: [{table}] {key}"


def _reject_unknown(table: Mapping, name: str, known_as: str | None = None) -> None:
    reject_unknown(table, name, KNOWN_KEYS[known_as if known_as is not None else name])


def _string(table: Mapping, name: str, key: str, *, required: bool = False, default: str | None = None) -> str | None:
    value = table.get(key, default)
    if value is None:
        if required:
            raise ConfigError(f"{_where(name, key)}: missing (expected a non-empty string)")
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise ConfigError(f"{_where(name, key)}: {value!r} is not valid (expected a non-empty string)")
    if has_illegal_xml(value):
        raise ConfigError(f"{_where(name, key)}: {value!r} holds a control character "
                          "(expected text that a feed can carry)")
    return value.strip()


def _http_url(table: Mapping, name: str, key: str, *, required: bool, raw: bool = False, prefix: bool = False,
              limits: Mapping[str, int] = DEFAULT_LIMITS) -> str | None:
    """An absolute http(s) URL without its trailing slash, as a URI (urls.resolve), or as written if raw.
    A prefix (base_url, feeds_url: paths and ids are appended to it) has no query or fragment."""
    value = _string(table, name, key, required=required)
    if value is None:
        return None
    if len(value) > limits["url_length"]:
        raise ConfigError(f"{_where(name, key)}: {over('url_length', f'is {len(value):,} characters long', limits)}")
    try:
        uri = resolve(value)
    except UrlError as exc:
        if exc.kind != "syntax":
            raise ConfigError(f"{_where(name, key)}: {printable(repr(value))} is not an absolute URL "
                              "(expected http:// or https://…)") from None
        raise ConfigError(f"{_where(name, key)}: {printable(repr(value))} is not a valid URL: {printable(str(exc))} "
                          "(expected an absolute http:// or https:// URL)") from None
    problem = prefix_problem(uri) if prefix else None
    if problem:
        raise ConfigError(f"{_where(name, key)}: {printable(repr(value))} cannot be a base for links: "
                          f"{printable(problem)} (expected scheme, host and path only: ids and feed URLs "
                          "are made by appending to it)")
    return value.rstrip("/") if raw else uri.rstrip("/")


def parse_config(text: str, *, fingerprint: str = "", site_dir: Path | None = None) -> Config:
    """Build a Config from the text of feedpub.toml (pure: no file access). A [source] table's
    relative sqlite path resolves against site_dir (default: the working directory)."""
    # The TOML parser recurses for every array and inline table: their nesting is measured first
    # (the document itself is one more level); tables and dotted keys nest too, without brackets.
    brackets = toml_depth(text)
    if brackets + 1 > DEFAULTS["config_depth"]:
        raise ConfigError(f"{CONFIG_NAME}: {over('config_depth', f'nests at least {brackets + 1:,} levels deep')}")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{CONFIG_NAME}: not valid TOML: {exc}") from None
    depth = value_depth(data)
    if depth > DEFAULTS["config_depth"]:
        raise ConfigError(f"{CONFIG_NAME}: {over('config_depth', f'nests {depth:,} levels deep')}")
    _reject_unknown(data, "")
    try:
        limits = parse_limits(data.get("limits", {}))
    except ValueError as exc:
        raise ConfigError(f"{CONFIG_NAME}: [limits] {exc}") from None
    site = data.get("site")
    if not isinstance(site, dict):
        raise ConfigError(f"{CONFIG_NAME}: missing [site] table (expected base_url, timezone, max_items)")
    _reject_unknown(site, "site")
    base_url = _http_url(site, "site", "base_url", required=True, prefix=True, limits=limits)
    id_base = _http_url(site, "site", "base_url", required=True, raw=True, limits=limits)
    feeds_url = _http_url(site, "site", "feeds_url", required=False, prefix=True, limits=limits)
    tz_name = _string(site, "site", "timezone", default=DEFAULT_TIMEZONE)
    try:
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{_where('site', 'timezone')}: unknown time zone {tz_name!r} "
                          "(expected an IANA name such as 'Asia/Ho_Chi_Minh')") from None
    max_items = site.get("max_items", DEFAULT_MAX_ITEMS)
    if isinstance(max_items, bool) or not isinstance(max_items, int) or not 1 <= max_items <= 10000:
        raise ConfigError(f"{_where('site', 'max_items')}: {max_items!r} is not valid (expected an integer from 1 to 10000)")
    category_feeds = site.get("category_feeds", True)
    if not isinstance(category_feeds, bool):
        raise ConfigError(f"{_where('site', 'category_feeds')}: {category_feeds!r} is not valid (expected true or false)")
    date_order = site.get("date_order", DATE_ORDERS[0])
    if date_order not in DATE_ORDERS:
        raise ConfigError(f"{_where('site', 'date_order')}: {date_order!r} is not valid "
                          '(expected "dmy" for day-first dates such as 13/07/2026, or "mdy" for month-first '
                          "dates such as 07/13/2026)")
    html = data.get("html", {})
    if not isinstance(html, dict):
        raise ConfigError(f"{CONFIG_NAME}: [html] must be a table (expected allowed_tags, extra_tags, "
                          "allowed_attributes, iframe_hosts)")
    html_policy = None                      # None: the default allow-list (and nh3 stays unimported)
    if html:
        from .htmlpolicy import policy_from_config
        try:
            html_policy = policy_from_config(html)
        except ValueError as exc:
            raise ConfigError(f"{CONFIG_NAME}: [html] {exc}") from None
    languages = _languages(data.get("languages"), base_url, limits)
    source = None
    if "source" in data:                    # the database extra is imported only when a source is opened
        from .sourceconfig import parse_source
        source = parse_source(data["source"], Path(site_dir) if site_dir is not None else Path.cwd())
    publish = None
    if "publish" in data:                   # a site that publishes to a folder never reads this module
        from .publishconfig import parse_publish
        publish = parse_publish(data["publish"])
    return Config(
        base_url=base_url,
        feeds_url=feeds_url or f"{base_url}/feeds",
        timezone=tz_name,
        max_items=max_items,
        languages=MappingProxyType(languages),
        site_title=_string(site, "site", "title") or "",
        hub=_http_url(site, "site", "hub", required=False, limits=limits),
        category_feeds=category_feeds,
        html_policy=html_policy,
        fingerprint=fingerprint,
        id_base=id_base,
        feed_id_base=_http_url(site, "site", "feeds_url", required=False, raw=True, limits=limits) or f"{id_base}/feeds",
        date_order=date_order,
        source=source,
        limits=limits,
        publish=publish,
    )


def _languages(table: Any, base_url: str, limits: Limits) -> dict[str, LanguageConfig]:
    if not isinstance(table, dict) or not table:
        raise ConfigError(f"{CONFIG_NAME}: missing [languages.CODE] tables (expected at least one, e.g. [languages.vi])")
    result = {}
    for code in sorted(table):
        lang = table[code]
        name = f"languages.{code}"
        if not code or not set(code) <= LANG_CHARS or not code[0].isalpha():
            raise ConfigError(f"{CONFIG_NAME}: [{name}]: {code!r} is not a language code (expected lower-case BCP 47, e.g. 'vi' or 'en')")
        if not isinstance(lang, dict):
            raise ConfigError(f"{CONFIG_NAME}: [{name}] must be a table")
        _reject_unknown(lang, name, "languages.*")
        result[code] = LanguageConfig(
            code=code,
            title=_string(lang, name, "title", required=True),
            description=_string(lang, name, "description", required=True),
            link=_http_url(lang, name, "link", required=False, limits=limits) or f"{base_url}/{code}/",
            author=_string(lang, name, "author"),
            copyright=_string(lang, name, "copyright"),
        )
    return result


_TOML_MARKS = re.compile(r'"""|' + r"'''" + r"""|[\[\]{}"'#\n\\]""")
_BASIC = ('"', '"""')


def toml_depth(text: str) -> int:
    """How deep the arrays and inline tables of a TOML text nest, in one linear pass that skips
    strings and comments (a table header counts for the instant it is open)."""
    depth = deepest = 0
    inside = ""                                   # the string or comment being read: '"', "'''", "#", …
    skip = -1
    for m in _TOML_MARKS.finditer(text):
        if m.start() < skip:
            continue
        mark = m.group()
        if not inside:
            if mark in ("[", "{"):
                depth += 1
                deepest = max(deepest, depth)
            elif mark in ("]", "}"):
                depth = max(depth - 1, 0)
            elif mark not in ("\\", "\n"):
                inside = mark
        elif mark == "\n":
            if inside in ('"', "'", "#"):        # a one-line string or a comment ends here at the latest
                inside = ""
        elif inside == "#":
            continue
        elif mark == "\\":
            if inside in _BASIC:
                skip = m.end() + 1                # the escaped character is not a quote
        elif mark == inside or (len(inside) == 3 and mark == inside[0] * 3):
            inside = ""
    return deepest


def load_config(site_dir: Path) -> Config:
    """Read SITE/feedpub.toml."""
    path = Path(site_dir) / CONFIG_NAME
    raw = read_input(path, CONFIG, missing_ok=True)
    if raw is None:
        raise ConfigError(f"{path}: not found (expected a site directory holding {CONFIG_NAME} and articles/)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 (byte {exc.start})") from None
    return parse_config(text, fingerprint=hashlib.sha256(raw).hexdigest(), site_dir=Path(site_dir))
