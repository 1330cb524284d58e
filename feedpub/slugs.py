"""ASCII slugs for category names (Vietnamese or English), stable across runs and input order."""
from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

MAX_SLUG_LENGTH = 60
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# Latin letters that Unicode does not decompose into a base letter plus marks.
_LETTERS = str.maketrans({"đ": "d", "ð": "d", "ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "þ": "th", "ı": "i"})


def slugify(text: str) -> str:
    """Stable, URL-safe, readable ASCII slug ('Đời sống' -> 'doi-song'); '' when nothing Latin is left."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    letters = "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_LETTERS)
    slug = _NON_ALNUM.sub("-", letters).strip("-")
    return _truncate(slug, MAX_SLUG_LENGTH)


def _truncate(slug: str, limit: int) -> str:
    """Cut a slug to at most limit chars, at a word boundary when one exists, never ending in '-'."""
    if len(slug) <= limit:
        return slug
    cut = slug[: limit + 1]
    head = cut.rsplit("-", 1)[0] if "-" in cut else cut[:limit]
    return head[:limit].rstrip("-")


def _fallback_slug(name: str) -> str:
    """Slug for a name with no Latin letters or digits: a short hash of its NFC form."""
    digest = hashlib.sha1(unicodedata.normalize("NFC", name).encode("utf-8")).hexdigest()
    return "category-" + digest[:8]


def unique_slugs(names: Iterable[str]) -> dict[str, str]:
    """Map each distinct name to a distinct slug; clashes get -2, -3... in an order independent of the input's."""
    ordered = sorted(set(names), key=lambda n: (unicodedata.normalize("NFC", n).casefold(), n))
    used: set[str] = set()
    result: dict[str, str] = {}
    for name in ordered:
        base = slugify(name) or _fallback_slug(name)
        slug, n = base, 2
        while slug in used:
            suffix = f"-{n}"
            slug = _truncate(base, MAX_SLUG_LENGTH - len(suffix)) + suffix
            n += 1
        used.add(slug)
        result[name] = slug
    return result
