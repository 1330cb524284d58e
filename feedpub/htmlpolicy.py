"""Which HTML an article body may keep: the allow-list policy, and the [html] table that sets it.

Part of the configuration (config.py reads [html] through policy_from_config); sanitize.py
applies a policy. Unsafe entries (script, event handlers, javascript: URLs) are refused
whatever the configuration says.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from types import MappingProxyType

__all__ = ["DEFAULT_POLICY", "DROP_WITH_CONTENT", "HOST_NAME", "HtmlPolicy", "SRCSET_ATTRIBUTES", "URL_ATTRIBUTES",
           "policy_from_config"]

DEFAULT_ALLOWED_TAGS: frozenset[str] = frozenset({
    "p", "br", "hr", "div", "span", "a", "strong", "em", "b", "i", "u", "s",
    "sub", "sup", "small", "mark", "abbr", "time", "cite", "q", "blockquote",
    "ul", "ol", "li", "h2", "h3", "h4", "h5", "h6", "pre", "code",
    "figure", "figcaption", "img", "picture", "source", "video", "audio",
    "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td", "iframe",
})

DEFAULT_ALLOWED_IFRAME_HOSTS: frozenset[str] = frozenset({
    "www.youtube.com", "www.youtube-nocookie.com", "player.vimeo.com",
})

DEFAULT_URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto", "tel"})

DEFAULT_ALLOWED_ATTRIBUTES: Mapping[str, frozenset[str]] = MappingProxyType({
    "*": frozenset({"title", "lang", "dir"}),
    "a": frozenset({"href", "hreflang"}),
    "img": frozenset({"src", "srcset", "sizes", "alt", "width", "height", "loading"}),
    "source": frozenset({"src", "srcset", "sizes", "media", "type"}),
    "video": frozenset({"src", "poster", "controls", "width", "height", "preload", "playsinline"}),
    "audio": frozenset({"src", "controls", "preload"}),
    "iframe": frozenset({"src", "width", "height", "allowfullscreen", "loading"}),
    "blockquote": frozenset({"cite"}),
    "q": frozenset({"cite"}),
    "time": frozenset({"datetime"}),
    "ol": frozenset({"start", "reversed"}),
    "th": frozenset({"colspan", "rowspan", "scope"}),
    "td": frozenset({"colspan", "rowspan"}),
})

# Elements removed together with their content: executable, or raw text that
# would come out as visible markup if only the tag were stripped.
DROP_WITH_CONTENT = frozenset({
    "script", "style", "noscript", "template", "title", "textarea", "xmp", "noembed", "noframes",
})
# Never allowed, whatever the configuration says.
_FORBIDDEN_TAGS = DROP_WITH_CONTENT | frozenset({
    "plaintext", "svg", "math", "base", "meta", "link", "object", "embed", "applet",
    "frame", "frameset", "form", "input", "button", "select",
})
_FORBIDDEN_ATTRIBUTES = frozenset({"style", "rel", "srcdoc", "formaction", "action"})
URL_ATTRIBUTES = frozenset({"href", "src", "poster", "cite"})
SRCSET_ATTRIBUTES = frozenset({"srcset"})

_NAME = re.compile(r"[a-z][a-z0-9-]*\Z")
_ATTRIBUTE_NAME = re.compile(r"[a-z][a-z0-9_.:-]*\Z")
HOST_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?\Z")


def _checked_names(values: Iterable[str], key: str, pattern: re.Pattern[str], forbidden: frozenset[str]) -> frozenset[str]:
    """Lower-case names (tags, attributes, schemes) and reject malformed or never-allowed ones, naming key."""
    names = frozenset(str(v).strip().lower() for v in values)
    for name in sorted(names):
        if not pattern.match(name):
            raise ValueError(f"{key}: {name!r} is not a valid name")
        if name in forbidden or (forbidden is _FORBIDDEN_ATTRIBUTES and name.startswith("on")):
            raise ValueError(f"{key}: {name!r} is never allowed in feed content")
    return names


def _checked_attributes(table: Mapping[str, Iterable[str]], key: str) -> Mapping[str, frozenset[str]]:
    """Validate a tag -> attribute names mapping ('*' means every tag) and freeze it."""
    out: dict[str, frozenset[str]] = {}
    for tag in sorted(table):
        name = tag.strip().lower()
        if name != "*" and not _NAME.match(name):
            raise ValueError(f"{key}: {tag!r} is not a valid tag name")
        out[name] = _checked_names(table[tag], f"{key}.{tag}", _ATTRIBUTE_NAME, _FORBIDDEN_ATTRIBUTES)
    return MappingProxyType(out)


def _checked_hosts(values: Iterable[str], key: str) -> frozenset[str]:
    """Lower-case iframe host names and reject anything that is not a bare host name."""
    hosts = frozenset(str(v).strip().lower() for v in values)
    for host in sorted(hosts):
        if not HOST_NAME.match(host) or host.endswith("."):
            raise ValueError(f"{key}: {host!r} is not a host name (no scheme, port or path)")
    return hosts


@dataclass(frozen=True)
class HtmlPolicy:
    """What survives sanitising: tags, attributes per tag ('*' = all), iframe hosts, URL schemes."""

    tags: frozenset[str] = DEFAULT_ALLOWED_TAGS
    attributes: Mapping[str, frozenset[str]] = field(default_factory=lambda: DEFAULT_ALLOWED_ATTRIBUTES, hash=False)
    iframe_hosts: frozenset[str] = DEFAULT_ALLOWED_IFRAME_HOSTS
    url_schemes: frozenset[str] = DEFAULT_URL_SCHEMES

    def __post_init__(self) -> None:
        """Normalise every field to lower-case frozen sets, rejecting unsafe entries."""
        set_ = partial(object.__setattr__, self)
        set_("tags", _checked_names(self.tags, "tags", _NAME, _FORBIDDEN_TAGS))
        set_("attributes", _checked_attributes(self.attributes, "attributes"))
        set_("iframe_hosts", _checked_hosts(self.iframe_hosts, "iframe_hosts"))
        set_("url_schemes", _checked_names(self.url_schemes, "url_schemes", _NAME, frozenset({"javascript", "vbscript", "data"})))


DEFAULT_POLICY = HtmlPolicy()


def _string_list(table: Mapping[str, object], name: str, key: str) -> list[str]:
    """Return table[name] if it is a list of strings, else raise ValueError naming key."""
    value = table[name]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{key} must be a list of strings, got {type(value).__name__}: {value!r}")
    return list(value)


_CONFIG_KEYS = ("allowed_tags", "extra_tags", "allowed_attributes", "iframe_hosts")


def policy_from_config(table: dict) -> HtmlPolicy:
    """Build a policy from the [html] table of feedpub.toml, raising ValueError that names the bad key."""
    if not isinstance(table, Mapping):
        raise ValueError(f"html must be a table, got {type(table).__name__}")
    unknown = sorted(set(table) - set(_CONFIG_KEYS))
    if unknown:
        raise ValueError(f"html.{unknown[0]}: unknown key (expected one of {', '.join(_CONFIG_KEYS)})")
    tags = set(DEFAULT_ALLOWED_TAGS)
    if "allowed_tags" in table:
        tags = set(_checked_names(_string_list(table, "allowed_tags", "html.allowed_tags"), "html.allowed_tags", _NAME, _FORBIDDEN_TAGS))
    if "extra_tags" in table:
        tags |= _checked_names(_string_list(table, "extra_tags", "html.extra_tags"), "html.extra_tags", _NAME, _FORBIDDEN_TAGS)
    attributes = dict(DEFAULT_ALLOWED_ATTRIBUTES)
    if "allowed_attributes" in table:
        given = table["allowed_attributes"]
        if not isinstance(given, Mapping):
            raise ValueError(f"html.allowed_attributes must be a table of tag = [attribute, ...], got {type(given).__name__}")
        lists = {tag: _string_list(given, tag, f"html.allowed_attributes.{tag}") for tag in given}
        attributes.update(_checked_attributes(lists, "html.allowed_attributes"))
    hosts = DEFAULT_ALLOWED_IFRAME_HOSTS
    if "iframe_hosts" in table:
        hosts = _checked_hosts(_string_list(table, "iframe_hosts", "html.iframe_hosts"), "html.iframe_hosts")
    return HtmlPolicy(tags=frozenset(tags), attributes=attributes, iframe_hosts=hosts)
