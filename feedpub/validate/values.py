"""Value grammars shared by the formats: URIs, language tags, MIME types, e-mail addresses, numbers.

Each check returns None when the value is fine, or a phrase saying what is
wrong that follows the quoted value ("… is not a language tag: …"). URI
syntax itself lives in feedpub.urls (one home for URLs); this module adds the
schemes feeds use for ids (tag:, urn:, urn:uuid:).
"""
from __future__ import annotations

import re
from urllib.parse import unquote

from ..urls import http_url_problem, reference_problem

__all__ = ["absolute_uri_problem", "email_problem", "html_in_text", "http_problem", "language_problem",
           "mime_problem", "positive_integer_problem", "reference_iri_problem", "rss_contact_form_problem",
           "rss_contact_problem"]

# --- URIs -----------------------------------------------------------------------------------------

_TAG = re.compile(r"tag:(?:[A-Za-z0-9._%+-]+@)?(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                  r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*),"
                  r"\d{4}(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\d|3[01]))?)?:"
                  r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*(?:#(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]"
                  r"|%[0-9A-Fa-f]{2})*)?")
_URN = re.compile(r"urn:[A-Za-z0-9][A-Za-z0-9-]{0,30}[A-Za-z0-9]:(?:[A-Za-z0-9()+,\-.:=@;$_!*'/]|%[0-9A-Fa-f]{2})+"
                  r"(?:\?[+=].*)?(?:#.*)?", re.I | re.S)
_HAS_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_UUID = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def absolute_uri_problem(value: str, *, iri: bool = True) -> str | None:
    """An absolute IRI (or URI with iri=False) of any scheme; tag:, urn: and urn:uuid: by their own RFCs."""
    problem = reference_problem(value, iri=iri, absolute=True)
    if problem:
        return problem
    scheme = value.split(":", 1)[0].lower()
    if scheme == "tag" and not _TAG.fullmatch(value):
        return "is not a valid tag URI (RFC 4151: tag:authority,YYYY[-MM[-DD]]:specific, e.g. tag:example.vn,2021:a1)"
    if scheme == "urn":
        if value.lower().startswith("urn:uuid:"):
            if not _UUID.fullmatch(value):
                return "is not a valid UUID URN (RFC 4122: urn:uuid: and 8-4-4-4-12 hex digits)"
        elif not _URN.fullmatch(value):
            return "is not a valid URN (RFC 8141: urn:NID:specific, NID of 2 to 32 letters, digits or hyphens)"
    if scheme in ("http", "https", "ftp") and not value.split(":", 1)[1].startswith("//"):
        return f'has no "//" and host after "{scheme}:"'
    if scheme in ("http", "https", "ftp") and value.split(":", 1)[1].startswith("///"):
        return "has no host"
    return None


def reference_iri_problem(value: str) -> str | None:
    """An IRI reference, relative ones included (Atom href, src, uri: resolved against xml:base)."""
    problem = reference_problem(value, iri=True, absolute=False)
    if problem is None and _HAS_SCHEME.match(value):
        return absolute_uri_problem(value)
    return problem


def http_problem(value: str) -> str | None:
    """feedpub's own URLs: absolute http(s), and a URI (urls.http_url_problem)."""
    return http_url_problem(value, userinfo=True)


# --- language tags (BCP 47, against the IANA registry that langcodes ships) --------------------------

_BCP47 = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")


def language_problem(value: str) -> str | None:
    """A BCP 47 language tag whose subtags are registered (IANA Language Subtag Registry)."""
    if not _BCP47.fullmatch(value):
        return "is not a language tag (expected BCP 47, e.g. vi, en or en-US)"
    import langcodes            # imported here: `feedpub build` never pays for its registry

    if not langcodes.tag_is_valid(value):
        return "is not a registered language tag (expected BCP 47 subtags from the IANA registry, e.g. vi, en-US)"
    return None


# --- MIME types (RFC 2045 §5.1, RFC 6838) ---------------------------------------------------------

_TOKEN = r"[!#$%&'*+\-.^_`{|}~A-Za-z0-9]+"
_MIME = re.compile(f"({_TOKEN})/({_TOKEN})((?:\\s*;\\s*{_TOKEN}=(?:{_TOKEN}|\"(?:[^\"\\\\]|\\\\.)*\"))*)\\s*")


def mime_problem(value: str, *, composite: bool = True) -> str | None:
    """type/subtype with optional parameters; composite=False refuses multipart/* and message/*."""
    m = _MIME.fullmatch(value)
    if not m:
        return "is not a MIME type (expected type/subtype, e.g. image/jpeg, RFC 2045 §5.1)"
    if not composite and m.group(1).lower() in ("multipart", "message"):
        return "is a composite MIME type (expected a non-composite one, RFC 4287 §4.1.3.1)"
    return None


# --- e-mail addresses ---------------------------------------------------------------------------------

_ATOM_CHARS = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_ADDR_SPEC = re.compile(f"(?:{_ATOM_CHARS}(?:\\.{_ATOM_CHARS})*|\"(?:[^\"\\\\\\r\\n]|\\\\.)*\")"
                        r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
                        r"|\[[^\[\]\\\s]*\])")


def email_problem(value: str) -> str | None:
    """An RFC 5322 addr-spec (name@example.vn), as Atom's <email> wants (RFC 4287 §3.2.3)."""
    if not _ADDR_SPEC.fullmatch(value):
        return "is not an e-mail address (expected an addr-spec such as toa.soan@example.vn, RFC 5322 §3.4.1)"
    return None


_ADDR_ANYWHERE = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def rss_contact_problem(value: str) -> str | None:
    """RSS author, managingEditor, webMaster: the specification asks for "the email address".

    With a name in parentheses the address must come first ("editor@example.vn (Name)"); other
    shapes pass as long as they hold an address somewhere (the RSS Profile's form is feedpub's rule).
    """
    text = value.strip()
    if text.startswith("mailto:"):
        text = unquote(text[7:])
    if text.endswith(")"):
        m = re.match(r"(\S+)\s*\(", text)
        if not (m and _ADDR_SPEC.fullmatch(m.group(1))):
            return 'has no e-mail address before the name in parentheses (expected e.g. "editor@example.vn (Name)")'
        return None
    if _ADDR_ANYWHERE.search(text):
        return None
    return 'has no e-mail address (expected e.g. "editor@example.vn (Name)")'


def rss_contact_form_problem(value: str) -> str | None:
    """The form the RSS Profile recommends and feedpub writes: an address, then the name in parentheses."""
    m = re.fullmatch(r"(\S+)(?:\s+\((.*)\))?\s*", value.strip(), re.S)
    if m and _ADDR_SPEC.fullmatch(m.group(1)):
        return None
    return 'is not of the form "editor@example.vn (Name)"'


# --- text that looks like HTML -------------------------------------------------------------------------

_HTML = re.compile(r"<(?:/?(?:a|abbr|acronym|address|b|big|blockquote|br|caption|center|cite|code|div|dl|dt|dd|em"
                   r"|font|h[1-6]|hr|i|img|li|ol|p|pre|q|s|small|span|strike|strong|sub|sup|table|td|th|tr|tt|u"
                   r"|ul|script|iframe|object|embed|style|form|input|html|body|head)\b[^<>]*>|!--)|&(?:nbsp|amp|lt"
                   r"|gt|quot|#\d+|#x[0-9a-fA-F]+);", re.I)


def html_in_text(value: str) -> str | None:
    """The first thing in plain text that looks like HTML markup (a tag or an escaped entity), or None."""
    m = _HTML.search(value)
    return m.group() if m else None


def positive_integer_problem(value: str, *, zero: bool = False) -> str | None:
    """Digits only, no sign; zero allowed when zero=True."""
    if not re.fullmatch(r"[0-9]+", value):
        return "is not a whole number (expected digits)"
    if not zero and int(value) == 0:
        return "is zero (expected a positive number)"
    return None
