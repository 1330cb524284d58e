"""Allow-list sanitising of article HTML, and cleaning of plain-text fields, for feeds.

clean_html runs nh3 with an allow-list policy. An attribute filter makes every
URL absolute against the article URL (feed readers have no base URL) and
rejects unsafe schemes, including in srcset, poster and cite, which nh3 does
not check itself. An http(s) URL is written as a URI (urls.iri_to_uri): HTML
itself would take an IRI, but then an image named in Vietnamese would appear
under two spellings, percent-encoded as the feed's enclosure and raw in the
body, and readers that match the two (or fetch the body's images through a
proxy) would not. Iframes need one extra pass: nh3 cannot drop an element from
its attribute filter, so the filter only removes an iframe's src when the host
is not allowed, and a pass over nh3's canonical output then removes iframes
without a src and empties the rest (an iframe's content is raw text, never
markup). Text and attribute values come out NFC-normalised and free of
characters that XML 1.0 forbids. Output is re-cleaned until stable, so
cleaning is idempotent even where a stripped tag leaves a tree that would
parse differently once serialised.
"""
from __future__ import annotations

import ipaddress
import re
import threading
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache, partial
from html import unescape
from types import MappingProxyType
from urllib.parse import urljoin, urlsplit

import nh3

from .text import strip_illegal_xml
from .urls import UrlError, iri_to_uri

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
_DROP_WITH_CONTENT = frozenset({
    "script", "style", "noscript", "template", "title", "textarea", "xmp", "noembed", "noframes",
})
# Never allowed, whatever the configuration says.
_FORBIDDEN_TAGS = _DROP_WITH_CONTENT | frozenset({
    "plaintext", "svg", "math", "base", "meta", "link", "object", "embed", "applet",
    "frame", "frameset", "form", "input", "button", "select",
})
_FORBIDDEN_ATTRIBUTES = frozenset({"style", "rel", "srcdoc", "formaction", "action"})
_URL_ATTRIBUTES = frozenset({"href", "src", "poster", "cite"})
_SRCSET_ATTRIBUTES = frozenset({"srcset"})

_NAME = re.compile(r"[a-z][a-z0-9-]*\Z")
_ATTRIBUTE_NAME = re.compile(r"[a-z][a-z0-9_.:-]*\Z")
_HOST_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?\Z")
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")
_TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")
_C0_OR_SPACE = "".join(chr(c) for c in range(0x21))
_DESCRIPTOR = re.compile(r"(\d+w|\d+h|\d+(\.\d+)?x)\Z")
_WHITESPACE = re.compile(r"\s+")
# nh3 always serialises an iframe as <iframe attrs>raw text</iframe>, with "<"
# and ">" escaped inside attribute values; raw text cannot contain "</iframe>".
_IFRAME = re.compile(r"<iframe((?:\s[^>]*)?)>.*?</iframe>", re.DOTALL)
_ATTRIBUTE = re.compile(r'([^\s="]+)(?:="([^"]*)")?')
_TAG_OR_TEXT = re.compile(r"(<[^>]*>)|([^<]+)")
# A parser drops one newline right after <pre>; nh3 does not write it back.
_PRE_NEWLINE = re.compile(r"(<pre(?:\s[^>]*)?>)\n")
_MAX_EXTRA_PASSES = 4


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
        if not _HOST_NAME.match(host) or host.endswith("."):
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


def strip_illegal_xml_chars(text: str) -> tuple[str, int]:
    """Remove what feedpub never writes into XML (text.ILLEGAL_XML); return (clean, count removed)."""
    return strip_illegal_xml(text)


@lru_cache(maxsize=1024)
def _host_ok(host: str) -> bool:
    """Accept only host names a browser and nh3 would both parse the same way (conservative)."""
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
        return True
    try:
        ascii_host = host.encode("idna").decode("ascii")
        ascii_host.encode("ascii").decode("idna")
    except UnicodeError:
        return False
    if not _HOST_NAME.match(ascii_host):
        return False
    if ascii_host.rstrip(".").rsplit(".", 1)[-1].isdigit():
        try:
            ipaddress.IPv4Address(ascii_host)
        except ValueError:
            return False
    return True


def _absolute_url(value: str, base_url: str, schemes: frozenset[str]) -> str | None:
    """Resolve value against base_url; None when empty, of a disallowed scheme or malformed."""
    url = _TAB_OR_NEWLINE.sub("", value.strip(_C0_OR_SPACE))
    if not url:
        return None
    match = _SCHEME.match(url)
    if match and match.group(1).lower() not in schemes:
        return None
    try:
        url = urljoin(base_url, url)
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError on a bad port
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https"):
        if not parts.hostname or "@" in parts.netloc or not _host_ok(parts.hostname):
            return None
        try:
            return iri_to_uri(url)      # the same string as the record's own URLs (urls.py)
        except UrlError:
            return None
    return url


def _clean_srcset(value: str, base_url: str, schemes: frozenset[str]) -> str | None:
    """Absolutise each srcset candidate, dropping unsafe ones or ones with odd descriptors."""
    out: list[str] = []
    for url, descriptor in _srcset_candidates(value):
        absolute = _absolute_url(url, base_url, schemes)
        if absolute is None or (descriptor and not _DESCRIPTOR.match(descriptor)):
            continue
        out.append(f"{absolute} {descriptor}" if descriptor else absolute)
    return ", ".join(out) or None


def _srcset_candidates(value: str) -> list[tuple[str, str]]:
    """Split a srcset into (url, descriptor) pairs, following the HTML parsing rules loosely."""
    candidates: list[tuple[str, str]] = []
    i, n = 0, len(value)
    while i < n:
        while i < n and (value[i].isspace() or value[i] == ","):
            i += 1
        start = i
        while i < n and not value[i].isspace():
            i += 1
        url = value[start:i]
        if not url:
            break
        if url.endswith(","):
            candidates.append((url.rstrip(","), ""))
            continue
        end = value.find(",", i)
        end = n if end < 0 else end
        candidates.append((url, " ".join(value[i:end].split())))
        i = end + 1
    return candidates


def _iframe_src_ok(url: str, hosts: frozenset[str]) -> bool:
    """True when an iframe src is a plain http(s) URL on one of the allowed hosts, nothing tricky."""
    if any(c in url for c in "\\ \t\n\r") or not url.isascii():
        return False
    parts = urlsplit(url)
    return parts.scheme.lower() in ("http", "https") and parts.netloc.lower() in hosts


def _filter_attribute(base_url: str, policy: HtmlPolicy, tag: str, attr: str, value: str) -> str | None:
    """nh3 attribute filter: NFC every value, absolutise URLs, drop unsafe ones and foreign iframe srcs."""
    if attr == "rel" and tag == "a":
        return value
    value = unicodedata.normalize("NFC", value)
    if attr in _SRCSET_ATTRIBUTES:
        return _clean_srcset(value, base_url, policy.url_schemes)
    if attr not in _URL_ATTRIBUTES:
        return value
    url = _absolute_url(value, base_url, policy.url_schemes)
    if url is not None and tag == "iframe" and attr == "src" and not _iframe_src_ok(url, policy.iframe_hosts):
        return None
    return url


def _finish_iframe(hosts: frozenset[str], match: re.Match[str]) -> str:
    """Keep an iframe, emptied, only if its src is on an allowed host; else remove it whole."""
    attrs = match.group(1)
    src = next((unescape(v or "") for k, v in _ATTRIBUTE.findall(attrs) if k == "src"), "")
    return f"<iframe{attrs}></iframe>" if src and _iframe_src_ok(src, hosts) else ""


def _nfc_text(html: str) -> str:
    """NFC-normalise the text between tags only, so no character can merge into markup."""
    if unicodedata.is_normalized("NFC", html):     # then so is every piece of it: nothing to do
        return html
    return _TAG_OR_TEXT.sub(lambda m: m.group(1) or unicodedata.normalize("NFC", m.group(2)), html)


class _Cleaner:
    """nh3's cleaner for one policy, built once (building one costs more than cleaning a 5 KB body).

    The attribute filter needs the URL of the article being cleaned; the cleaner is shared, so
    clean_html hands it over in a thread-local slot for the length of each call.
    """

    def __init__(self, policy: HtmlPolicy):
        tags = set(policy.tags)
        drop = set(_DROP_WITH_CONTENT)
        if not policy.iframe_hosts:
            tags.discard("iframe")
        if "iframe" not in tags:
            drop.add("iframe")
        self.policy = policy
        self.iframes = "iframe" in tags
        self.base = threading.local()
        self.nh3 = nh3.Cleaner(
            tags=tags,
            clean_content_tags=drop,
            # nh3 panics if a tag both has attributes and is in clean_content_tags.
            attributes={tag: set(names) for tag, names in policy.attributes.items() if tag == "*" or tag in tags},
            attribute_filter=self._filter,
            url_schemes=set(policy.url_schemes),
            strip_comments=True,
            link_rel="noopener noreferrer",
        )

    def _filter(self, tag: str, attr: str, value: str) -> str | None:
        return _filter_attribute(self.base.url, self.policy, tag, attr, value)

    def clean_once(self, html: str) -> str:
        """One sanitising pass: nh3 with the policy, then the iframe, <pre> and text post-passes."""
        html, _ = strip_illegal_xml_chars(html)
        out = self.nh3.clean(html)
        if self.iframes:
            out = _IFRAME.sub(partial(_finish_iframe, self.policy.iframe_hosts), out)
        out = _PRE_NEWLINE.sub("\\1\n\n", out)
        if out != html:                        # (html, just stripped, is free of them already)
            out, _ = strip_illegal_xml_chars(out)   # nh3 decodes character references such as &#1;
        return _nfc_text(out)


@lru_cache(maxsize=16)
def _cleaner(policy: HtmlPolicy) -> _Cleaner:
    return _Cleaner(policy)


def clean_html(html: str, base_url: str, policy: HtmlPolicy = DEFAULT_POLICY) -> str:
    """Sanitise article HTML for feeds: allow-listed tags/attributes only, safe absolute URLs, allowed iframes only."""
    base = urlsplit(base_url)
    if base.scheme not in ("http", "https") or not base.netloc:
        raise ValueError(f"base_url must be an absolute http(s) URL, got {base_url!r}")
    cleaner = _cleaner(policy)
    outer = getattr(cleaner.base, "url", None)
    cleaner.base.url = base_url
    try:
        # Stripping tags can leave a tree (say <p> inside <p>) that parses differently
        # once serialised; re-clean until stable so cleaning clean output changes nothing.
        # A pass is a pure function of its input: when the first one changed nothing,
        # a second would return the same string again.
        out = cleaner.clean_once(html)
        if out == html:
            return out
        for _ in range(_MAX_EXTRA_PASSES):
            again = cleaner.clean_once(out)
            if again == out:
                break
            out = again
        return out
    finally:
        cleaner.base.url = outer


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
