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
from functools import lru_cache, partial
from html import unescape
from urllib.parse import urljoin, urlsplit

import nh3

from .htmlpolicy import DEFAULT_POLICY, DROP_WITH_CONTENT, HOST_NAME, SRCSET_ATTRIBUTES, URL_ATTRIBUTES, HtmlPolicy
from .text import strip_illegal_xml
from .urls import UrlError, ascii_host, host_problem, iri_to_uri

_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")
_TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")
_C0_OR_SPACE = "".join(chr(c) for c in range(0x21))
_DESCRIPTOR = re.compile(r"(\d+w|\d+h|\d+(\.\d+)?x)\Z")
# nh3 always serialises an iframe as <iframe attrs>raw text</iframe>, with "<"
# and ">" escaped inside attribute values; raw text cannot contain "</iframe>".
_IFRAME = re.compile(r"<iframe((?:\s[^>]*)?)>.*?</iframe>", re.DOTALL)
_ATTRIBUTE = re.compile(r'([^\s="]+)(?:="([^"]*)")?')
_TAG_OR_TEXT = re.compile(r"(<[^>]*>)|([^<]+)")
# A parser drops one newline right after <pre>; nh3 does not write it back.
_PRE_NEWLINE = re.compile(r"(<pre(?:\s[^>]*)?>)\n")
_MAX_EXTRA_PASSES = 4




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
        name = host if host.isascii() else ascii_host(host)       # IDNA 2008, as the record URLs (urls.py)
    except UrlError:
        return False
    if not HOST_NAME.match(name.lower()) or host_problem(name) is not None:
        return False
    if name.rstrip(".").rsplit(".", 1)[-1].isdigit():
        try:
            ipaddress.IPv4Address(name)
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
    if attr in SRCSET_ATTRIBUTES:
        return _clean_srcset(value, base_url, policy.url_schemes)
    if attr not in URL_ATTRIBUTES:
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
        drop = set(DROP_WITH_CONTENT)
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
