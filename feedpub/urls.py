"""URLs: one home for what feedpub accepts, how it resolves a path, and how it writes a URL.

Three jobs, used by config, record checking, the fast scan, WebSub and the
output checker alike:

- **The http(s) rule** (`http_url_problem`, `is_http_url`): an absolute URI
  (RFC 3986) with scheme http or https and a host. Refused: anything that is
  not ASCII (convert it first), whitespace, control characters and bidi
  controls anywhere (RFC 3987 §4.1 forbids bidi formatting characters in IRIs;
  they make a link look like another), an empty host, an IPv6 literal that does
  not parse (``https://[::1/x``), a host name that is not a DNS name, a port
  that is not 1-65535 (``:99999``, ``:8o``), a stray ``%`` not followed by two
  hex digits, and characters no URI may hold (``<>"{}|\\^`` and backquote).
  Userinfo (``https://user:pass@host/``) is refused too unless the caller says
  otherwise: a published feed would leak the password (RFC 3986 §3.2.1
  deprecates it) and ``https://trusted.example@evil.example/`` is the oldest
  way to disguise a link (§7.6).

- **Resolution** (`resolve`): a record may give ``/path`` instead of a full URL;
  it is joined to the origin of base_url (with ``.`` and ``..`` segments
  removed), then converted and checked like any other URL.

- **IRI → URI** (`iri_to_uri`, RFC 3987 §3.1): Vietnamese letters in a path
  (``/vi/tin-t%E1%BB%A9c/b%C3%A0i-1.html``), a non-ASCII host is converted as
  browsers do, with UTS 46 and IDNA 2008 (``báo.example.vn`` → ``xn--bo-mia.example.vn``,
  ``straße.de`` → ``xn--strae-oqa.de``; Python's own codec is IDNA 2003 and would
  make that ``strasse.de``, another host), and the few ASCII
  characters a URI cannot hold are percent-encoded as well. Existing ``%XX``
  escapes are kept as they are, so converting twice changes nothing and
  already-encoded input is never encoded again.

Why every URL feedpub writes is a URI, even where a format would take an IRI
(Atom's ``href`` and ``<id>`` are IRIs, RFC 4287 §3.4 and §4.2.7.1): RSS 2.0
and JSON Feed want URLs, the W3C validator rejects an IRI in an RSS ``<link>``
or ``<enclosure>``, and many readers and HTTP clients fetch the string they are
given without converting it. Converting once, when a record or the config is
read (the way Django's feed framework calls ``iri_to_uri`` at its model
boundary), means every format carries the same, fetchable string for the same
article, and no renderer has to think about it. Text is not NFC-normalised
first: RFC 3987 §3.1 converts a digital IRI as it is, and the web server's
file may be named in either form.

Item ids do not pass through here: an id is base_url (as configured) plus the
percent-encoded record id (feeds.guid), so it is the same string it always was.
"""
from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["PLAIN_ROOT_PATH", "UrlError", "ascii_host", "host_problem", "http_url_problem", "iri_to_uri",
           "is_http_url", "origin", "prefix_problem", "reference_problem", "resolve"]


class UrlError(ValueError):
    """A URL feedpub cannot accept; str() says what is wrong, e.g. 'its port 99999 is out of range (1-65535)'.

    kind: "shape" (not a URL or path at all), "scheme" (a URL, but not http or https) or "syntax".
    """

    def __init__(self, problem: str, kind: str = "syntax"):
        super().__init__(problem)
        self.kind = kind


# Characters refused anywhere, even before conversion: whitespace, C0/DEL/C1 controls, the bidi
# formatting characters of RFC 3987 §4.1 (LRM, RLM, ALM, LRE..RLO, LRI..PDI), line and paragraph
# separators, lone surrogates and noncharacters; and the invisible characters copy and paste leaves
# behind (soft hyphen, zero-width space, word joiner, BOM), which would only make a link that 404s.
_NOT_IN_IRI = ("\\s\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069"
               "\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff\\\\")
_REFUSED = re.compile(f"[{_NOT_IN_IRI}\u00ad\u200b\u2060\ufeff]")
_NOT_IN_REFERENCE = re.compile(f"[{_NOT_IN_IRI}]")          # others' files: the IRI grammar alone
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_INVISIBLE = frozenset("\u00ad\u200b\u2060\ufeff")

# RFC 3986 character classes (ASCII).
_UNRESERVED = "A-Za-z0-9\\-._~"
_SUB_DELIMS = "!$&'()*+,;="
_PCHAR = f"[{_UNRESERVED}{_SUB_DELIMS}:@]|%[0-9A-Fa-f]{{2}}"
_PATH = re.compile(f"(?:{_PCHAR}|/)*")
_QUERY = re.compile(f"(?:{_PCHAR}|[/?])*")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_PCT = re.compile(r"%[0-9A-Fa-f]{2}")
# RFC 3987: the same, with ucschar (and iprivate in the query) added.
_UCS = ("\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef\U00010000-\U0001fffd\U00020000-\U0002fffd"
        "\U00030000-\U0003fffd\U00040000-\U0004fffd\U00050000-\U0005fffd\U00060000-\U0006fffd"
        "\U00070000-\U0007fffd\U00080000-\U0008fffd\U00090000-\U0009fffd\U000a0000-\U000afffd"
        "\U000b0000-\U000bfffd\U000c0000-\U000cfffd\U000d0000-\U000dfffd\U000e1000-\U000efffd")


@lru_cache(maxsize=1)
def _iri_grammar() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """ipath, iquery (and ifragment), iuserinfo, ireg-name: compiled on first use, since only the
    output checker needs them and their character classes cost a build's start-up 10 ms."""
    ipchar = f"[{_UNRESERVED}{_SUB_DELIMS}:@{_UCS}]|%[0-9A-Fa-f]{{2}}"
    return (re.compile(f"(?:{ipchar}|/)*"),
            re.compile(f"(?:{ipchar}|[/?\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd])*"),
            re.compile(f"(?:[{_UNRESERVED}{_SUB_DELIMS}:{_UCS}]|%[0-9A-Fa-f]{{2}})*"),
            re.compile(f"(?:[{_UNRESERVED}{_SUB_DELIMS}{_UCS}]|%[0-9A-Fa-f]{{2}})*"))

_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")
_DIGITS = re.compile(r"[0-9]+")

# A path starting with one "/" that is already a plain URI path (ASCII, no character that needs
# escaping, valid %XX): the record fast path joins it to the origin without further work.
PLAIN_ROOT_PATH = re.compile(f"/(?!/)(?:{_PCHAR}|[/?])*(?:#(?:{_PCHAR}|[/?])*)?")

# What iri_to_uri leaves alone in each part: every URI character, and "%" (escapes are checked apart).
_KEEP_PATH = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~" + _SUB_DELIMS + ":@/%")
_KEEP_QUERY = _KEEP_PATH | frozenset("?")
_KEEP_USERINFO = _KEEP_PATH - frozenset("@/")
# An ASCII http(s)-shaped URL with a plain host that needs no conversion at all.
_PLAIN_URL = re.compile(f"[A-Za-z][A-Za-z0-9+.-]*://[A-Za-z0-9.-]+(?::[0-9]*)?(?:/(?:{_PCHAR}|/)*)?"
                        f"(?:\\?(?:{_PCHAR}|[/?])*)?(?:#(?:{_PCHAR}|[/?])*)?")
_REG_NAME = re.compile(f"(?:[{_UNRESERVED}{_SUB_DELIMS}]|%[0-9A-Fa-f]{{2}})*")
_IP_FUTURE = re.compile(f"\\[v[0-9A-Fa-f]+\\.[{_UNRESERVED}{_SUB_DELIMS}:]+\\]")


def _split(value: str) -> tuple[str, str | None, str, str | None, str | None]:
    """RFC 3986 appendix B: scheme, authority (None if absent), path, query, fragment (None if absent)."""
    m = re.fullmatch(r"(?:([^:/?#]+):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?", value, re.S)
    assert m is not None            # the expression matches every string
    return m.group(1) or "", m.group(2), m.group(3), m.group(4), m.group(5)


def _split_authority(authority: str) -> tuple[str | None, str, str | None]:
    """userinfo (None if absent), host, port (None if absent) of an authority."""
    userinfo, _, hostport = authority.rpartition("@") if "@" in authority else (None, "", authority)
    if hostport.startswith("["):
        end = hostport.find("]")
        if end == -1:
            return userinfo, hostport, None
        host, rest = hostport[:end + 1], hostport[end + 1:]
        if rest.startswith(":"):
            return userinfo, host, rest[1:]
        return userinfo, host, (None if not rest else "\0" + rest)     # "\0": junk after "]"
    host, colon, port = hostport.partition(":")
    return userinfo, host, (port if colon else None)


def host_problem(host: str) -> str | None:
    """What is wrong with an ASCII host (a DNS name, an IPv4 address or an IPv6 literal), or None."""
    return _host_problem(host)


@lru_cache(maxsize=1024)
def _punycode_problem(label: str) -> str | None:
    """What is wrong with an "xn--" label: it must decode to a name IDNA 2008 allows, and back."""
    import idna                 # here, not at the top: most URLs have no such label
    try:
        if idna.encode(idna.decode(label)).decode("ascii") != label.lower():
            return "does not encode back to itself"
    except (idna.IDNAError, UnicodeError):
        return "is not valid punycode (IDNA 2008)"
    return None


def _host_problem(host: str) -> str | None:
    """What is wrong with an ASCII host (a DNS name, an IPv4 address or an IPv6 literal), or None."""
    if not host:
        return "it has no host"
    import ipaddress        # here, not at the top: a build's start-up never needs it

    if host.startswith("["):
        if not host.endswith("]"):
            return f'its IPv6 address "{host}" has no closing "]"'
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return f'"{host}" is not a valid IPv6 address'
        return None
    if "%" in host:
        return f'its host "{host}" is percent-encoded (expected a host name)'
    name = host[:-1] if host.endswith(".") else host
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        return f'its host "{host}" is not a valid host name'
    for label in labels:
        if label[2:4] == "--" and label[:2].lower() == "xn":
            problem = _punycode_problem(label)
            if problem:
                return f'its host "{host}" has a label "{label}" that {problem}'
    if all(_DIGITS.fullmatch(label) for label in labels) or _DIGITS.fullmatch(labels[-1]):
        try:
            ipaddress.IPv4Address(name)
        except ValueError:
            return f'its host "{host}" is not a valid IPv4 address'
    return None


def _port_problem(port: str | None) -> str | None:
    if port is None or port == "":
        return None
    if port.startswith("\0"):
        return f'it has "{port[1:]}" after its IPv6 address (expected ":" and a port, or nothing)'
    if not _DIGITS.fullmatch(port):
        return f'its port "{port}" is not a number'
    if not 1 <= int(port) <= 65535:
        return f"its port {port} is out of range (1-65535)"
    return None


def _refused(value: str) -> str | None:
    m = _REFUSED.search(value)
    if m is None:
        return None
    ch = m.group()
    if ch == "\\":
        return 'it contains a backslash (expected "/")'
    if ch in _BIDI:
        return f"it contains U+{ord(ch):04X}, a bidi control character"
    if ch in _INVISIBLE:
        return f"it contains U+{ord(ch):04X}, an invisible character"
    if ch.isspace():
        return "it contains whitespace" if ch == " " else f"it contains whitespace (U+{ord(ch):04X})"
    return f"it contains the control character U+{ord(ch):04X}"


def http_url_problem(value: str, *, userinfo: bool = False) -> str | None:
    """None when value is an absolute http(s) URI feedpub accepts; otherwise what is wrong.

    The phrase completes "… is not a valid URL: ", e.g. 'its port 99999 is out of range (1-65535)'.
    userinfo=True accepts ``user@`` before the host (legal URI syntax, refused in feedpub's own input).
    """
    if not isinstance(value, str) or not value:
        return "it is empty"
    refused = _refused(value)
    if refused:
        return refused
    if not value.isascii():
        ch = next(c for c in value if ord(c) > 127)
        return f'it contains "{ch}" (U+{ord(ch):04X}), which a URI must percent-encode (it is an IRI)'
    scheme, authority, path, query, fragment = _split(value)
    if not scheme:
        return "it has no scheme (expected http:// or https://)"
    if scheme.lower() not in ("http", "https"):
        return f'its scheme "{scheme}" is not http or https'
    if authority is None:
        return f'it has no "//" and host after "{scheme}:"'
    info, host, port = _split_authority(authority)
    if info is not None and not userinfo:
        return f'it has a user name or password ("{info}@") before the host'
    if info is not None and not _iri_grammar()[2].fullmatch(info):
        return f'its user information "{info}" holds characters a URI must percent-encode'
    problem = _host_problem(host) or _port_problem(port)
    if problem:
        return problem
    for part, grammar, name in ((path, _PATH, "path"), (query, _QUERY, "query"), (fragment, _QUERY, "fragment")):
        if part is not None and not grammar.fullmatch(part):
            bad = _first_bad(part, grammar is _QUERY)
            return f'its {name} contains "{bad}", which a URI must percent-encode'
    return None


def _first_bad(part: str, query: bool) -> str:
    i = 0
    keep = _KEEP_QUERY if query else _KEEP_PATH
    while i < len(part):
        ch = part[i]
        if ch == "%":
            if not _PCT.match(part, i):
                return part[i:i + 3]
            i += 3
            continue
        if ch not in keep:
            return ch
        i += 1
    return part


def is_http_url(value: object, *, userinfo: bool = False) -> bool:
    """True for an absolute http(s) URI that http_url_problem accepts."""
    return isinstance(value, str) and http_url_problem(value, userinfo=userinfo) is None


def _encode(part: str, keep: frozenset[str]) -> str:
    """Percent-encode what a URI cannot hold in this part; keep valid %XX escapes as they are."""
    out = []
    for i, ch in enumerate(part):
        if ch in keep and (ch != "%" or _PCT.match(part, i)):
            out.append(ch)
        else:
            out.append("".join(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass")))
    return "".join(out)


@lru_cache(maxsize=1024)
def ascii_host(host: str) -> str:
    """A non-ASCII host name in its ASCII ("xn--") form, as browsers make it: UTS 46 mapping (lower
    case, full-width forms, the ideographic full stop), then IDNA 2008 for each non-ASCII label;
    UrlError if it has none. ASCII labels are kept as they are (mapped to lower case)."""
    import idna
    try:
        mapped = idna.uts46_remap(host, std3_rules=False, transitional=False)
        return ".".join(label if label.isascii() else idna.alabel(label).decode("ascii")
                        for label in mapped.split("."))
    except (idna.IDNAError, UnicodeError):
        raise UrlError(f'its host "{host}" is not a valid international domain name (IDNA 2008)') from None


_idna = ascii_host


@lru_cache(maxsize=4096)
def iri_to_uri(iri: str) -> str:
    """The URI of an IRI (RFC 3987 §3.1); a URI comes back unchanged, so converting twice is harmless.

    Only the characters a URI cannot hold change: non-ASCII characters (UTF-8, percent-encoded), a
    "%" that starts no escape, ASCII characters outside the URI grammar, and a non-ASCII host (IDNA).
    Raises UrlError when the host cannot be converted. The result still needs checking.
    """
    if _PLAIN_URL.fullmatch(iri):
        return iri
    scheme, authority, path, query, fragment = _split(iri)
    out = f"{scheme}:" if scheme else ""
    if authority is not None:
        info, host, port = _split_authority(authority)
        if not host.isascii():
            host = _idna(host)
        out += "//"
        if info is not None:
            out += _encode(info, _KEEP_USERINFO) + "@"
        out += host
        if port is not None:
            out += ":" + (port[1:] if port.startswith("\0") else port)
    out += _encode(path, _KEEP_PATH)
    if query is not None:
        out += "?" + _encode(query, _KEEP_QUERY)
    if fragment is not None:
        out += "#" + _encode(fragment, _KEEP_QUERY)
    return out


@lru_cache(maxsize=64)
def origin(base_url: str) -> str:
    """scheme://host[:port] of base_url: a path starting with / resolves against it."""
    scheme, authority, _, _, _ = _split(base_url)
    return f"{scheme}://{authority or ''}"


def resolve(value: str, base_url: str | None = None) -> str:
    """The absolute http(s) URI value names; UrlError saying what is wrong otherwise.

    value is an absolute http(s) URL or IRI, or (when base_url is given) a path starting with a
    single "/", resolved against the origin of base_url with dot segments removed. Leading and
    trailing whitespace is ignored; any other whitespace, control or bidi character is refused
    before anything is converted, so conversion can never hide it behind a %XX escape.
    """
    text = value.strip()
    if base_url is not None and PLAIN_ROOT_PATH.fullmatch(text) and "/." not in text:
        return origin(base_url) + text              # the common case, and the fast scan's
    if not text:
        raise UrlError("it is empty", "shape")
    refused = _refused(text)
    if refused:
        raise UrlError(refused)
    if base_url is not None and text.startswith("/") and not text.startswith("//"):
        from urllib.parse import urljoin
        text = urljoin(origin(base_url) + "/", text) if "/." in text else origin(base_url) + text
    else:
        scheme, authority = _split(text)[:2]
        if not _SCHEME.fullmatch(scheme):
            raise UrlError("it is neither an absolute URL nor a path starting with /" if base_url is not None
                           else "it has no scheme (expected http:// or https://)", "shape")
        if scheme.lower() not in ("http", "https"):
            raise UrlError(f'its scheme "{scheme}" is not http or https', "scheme")
        if authority is None:
            raise UrlError(f'it has no "//" and host after "{scheme}:"', "shape")
    uri = iri_to_uri(text)
    problem = http_url_problem(uri)
    if problem:
        raise UrlError(problem)
    return uri


def prefix_problem(uri: str) -> str | None:
    """What keeps a URL from being a prefix that paths are appended to (base_url, feeds_url): a
    query or a fragment, which would end up in the middle of every id and link made from it."""
    _, _, _, query, fragment = _split(uri)
    if query is not None:
        return f'it has a query ("?{query}")'
    if fragment is not None:
        return f'it has a fragment ("#{fragment}")'
    return None


def reference_problem(value: str, *, iri: bool, absolute: bool) -> str | None:
    """Syntax of a URI (RFC 3986) or IRI (RFC 3987) reference of any scheme, for checking others' files.

    None when value is a valid reference (an absolute one when absolute=True); otherwise what is
    wrong, e.g. 'contains "{", which a URI must percent-encode'. Nothing is resolved or fetched.
    """
    if value == "":
        return "is empty" if absolute else None
    m = _NOT_IN_REFERENCE.search(value)
    if m:
        ch = m.group()
        if ch in _BIDI:
            return f"contains U+{ord(ch):04X}, a bidi control character (RFC 3987 §4.1)"
        return "contains whitespace" if ch == " " else f"contains the character U+{ord(ch):04X}"
    if not iri and not value.isascii():
        ch = next(c for c in value if ord(c) > 127)
        return f'contains "{ch}", which a URI must percent-encode (an IRI is not a URI)'
    scheme, authority, path, query, fragment = _split(value)
    if ":" in value.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0] and not _SCHEME.fullmatch(scheme):
        return f'has an invalid scheme "{scheme}"'
    if absolute and not scheme:
        return "is not absolute: it has no scheme such as https:"
    import ipaddress

    ipath, iquery, iuserinfo, ireg_name = _iri_grammar() if iri else (_PATH, _QUERY, _PATH, _REG_NAME)
    if authority is not None:
        info, host, port = _split_authority(authority)
        if info is not None and not iuserinfo.fullmatch(info):
            return f'has user information "{info}" with characters a URI must percent-encode'
        if host.startswith("["):
            if not host.endswith("]"):
                return f'has an IPv6 address "{host}" with no closing "]"'
            try:
                ipaddress.IPv6Address(host[1:-1])
            except ValueError:
                if not _IP_FUTURE.fullmatch(host):
                    return f'has "{host}", which is not a valid IP literal'
        elif not ireg_name.fullmatch(host):
            return f'has a host "{host}" with characters that are not allowed'
        if port is not None and not re.fullmatch(r"[0-9]*", port):
            return f'has a port "{port.lstrip(chr(0))}" that is not a number'
    for part, grammar, name in ((path, ipath, "path"), (query, iquery, "query"), (fragment, iquery, "fragment")):
        if part is not None and not grammar.fullmatch(part):
            bad = _first_bad_ref(part, grammar)
            return f'contains "{bad}", which a URI must percent-encode'
    return None


def _first_bad_ref(part: str, grammar: re.Pattern[str]) -> str:
    for i, ch in enumerate(part):
        if ch == "%" and not _PCT.match(part, i):
            return part[i:i + 3]
        if ch != "%" and not grammar.fullmatch(ch) and ch != "/":
            return ch
    return part
