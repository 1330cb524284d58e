"""What each feed's files are made of, as one digest per feed: equal digests give equal files.

A run compares these with the last run's (runstate.RunState.feeds) and renders
only the feeds whose digest changed; when none did, it renders nothing at all.
"""
from __future__ import annotations

import hashlib

import msgspec

from .model import EMPTY_SITE_DATE, Article, Translation

__all__ = ["feed_digests", "feed_key"]


def feed_digests(chosen: dict[tuple[str, str | None], list[Article]],
                 translations: dict[str, dict[str, Translation]]) -> tuple[dict[str, str], str]:
    """A digest per feed of everything its files are made of (its articles, every field, their
    translation links; for an empty feed, the site's newest date, which it shows), keyed
    "lang/category"; and a digest of which feeds there are, which every feed page links to.
    Equal digests give equal files: a feed whose digest did not change is not rendered again."""
    encode = msgspec.msgpack.Encoder().encode
    everything = [a for arts in chosen.values() for a in arts]
    site_updated = max((max(a.updated, a.published) for a in everything), default=EMPTY_SITE_DATE)
    digests: dict[str, str] = {}
    for (lang, cat), articles in chosen.items():
        digest = hashlib.blake2b(encode([lang, cat]), digest_size=16)
        for article in articles:
            digest.update(encode(article))
            links = translations.get(article.translation_key, {}) if article.translation_key else {}
            digest.update(encode(sorted((code, t.url, t.title) for code, t in links.items())))
        if not articles:
            digest.update(encode(site_updated))
        digests[feed_key(lang, cat)] = digest.hexdigest()
    layout = hashlib.blake2b(encode(sorted(digests)), digest_size=16).hexdigest()
    return digests, layout


def feed_key(lang: str, cat: str | None) -> str:
    """A feed's name in the cache: its language, and its category if it has one."""
    return f"{lang}/{cat}" if cat is not None else lang
