"""Turn chosen articles into per-language (and per-category) Feed models (pure)."""
from __future__ import annotations

import dataclasses
from datetime import datetime
from urllib.parse import quote

from .config import Config
from .dates import site_time
from .layout import feed_dir, feed_urls, stylesheet_href
from .model import EMPTY_SITE_DATE, Article, Entry, Feed, Translation
from .sanitize import DEFAULT_POLICY, clean_html
from .slugs import unique_slugs



def guid(config: Config, record_id: str) -> str:
    """The item's identity forever: base_url as written plus the percent-encoded record id, nothing else.

    Not base_url as converted to a URI: a site configured with a non-ASCII host keeps the ids it
    always had (an IRI is a valid Atom id, and an RSS guid with isPermaLink="false" is any string).
    """
    return f"{config.id_base}/id/{quote(record_id, safe='')}"


def category_slugs(categories: dict[str, set[str]]) -> dict[str, dict[str, str]]:
    """Per language, a stable URL slug for every category name."""
    return {lang: unique_slugs(sorted(names)) for lang, names in categories.items()}


def _localise(article: Article, config: Config, content: str | None) -> Article:
    tz = config.tz
    return dataclasses.replace(article, published=site_time(article.published, tz),
                               updated=site_time(article.updated, tz), content=content or None)


def _clean_bodies(articles: list[Article], policy) -> list[str | None]:
    """Each article's sanitised content, in order."""
    return [clean_html(a.content, a.url, policy) if a.content else None for a in articles]


def build_feeds(config: Config, chosen: dict[tuple[str, str | None], list[Article]],
                translations: dict[str, dict[str, Translation]], *, version: str = "",
                unrendered: frozenset = frozenset()) -> list[Feed]:
    """One Feed per language, then one per (language, category) when category feeds are on.

    The feeds whose keys are in `unrendered` are not going to be rendered (their files are already
    right): they are made for the site's pages (title, links, count, updated) without sanitising
    their articles' bodies, which is most of the cost of a model.
    """
    policy = config.html_policy or DEFAULT_POLICY
    everything = [a for arts in chosen.values() for a in arts]
    site_updated = max((max(a.updated, a.published) for a in everything), default=EMPTY_SITE_DATE)
    names: dict[str, set[str]] = {lang: set() for lang in config.languages}
    for (lang, cat) in chosen:
        if cat is not None:
            names[lang].add(cat)
    slugs = category_slugs(names)
    keys = sorted(chosen, key=lambda k: (k[0], k[1] or ""))
    rendered = [key for key in keys if key not in unrendered]
    distinct = list({id(a): a for key in rendered for a in chosen[key]}.values())   # once, however many feeds
    entries = {id(a): _entry(config, _localise(a, config, body), translations)
               for a, body in zip(distinct, _clean_bodies(distinct, policy), strict=True)}
    for key in keys:
        for a in chosen[key]:
            if id(a) not in entries:                  # only in feeds that are not rendered: no body needed
                entries[id(a)] = _entry(config, _localise(a, config, None), translations)
    return [_feed(config, lang, cat, slugs[lang].get(cat) if cat else None,
                  [entries[id(a)] for a in chosen[(lang, cat)]], site_updated, version)
            for lang, cat in keys]


def _entry(config: Config, article: Article, translations: dict[str, dict[str, Translation]]) -> Entry:
    others = []
    if article.translation_key:
        for lang, t in sorted(translations.get(article.translation_key, {}).items()):
            if lang != article.lang:
                others.append(t)
    return Entry(article=article, guid=guid(config, article.id), translations=tuple(others))


def _feed(config: Config, lang: str, cat: str | None, slug: str | None, entries: list[Entry],
          site_updated: datetime, version: str) -> Feed:
    lc = config.languages[lang]
    base = feed_dir(lang, slug)
    urls = feed_urls(config.feeds_url, lang, slug)
    newest = max((max(e.article.updated, e.article.published) for e in entries), default=site_updated)
    return Feed(
        lang=lang,
        title=f"{lc.title} – {cat}" if cat else lc.title,
        description=lc.description,
        link=lc.link,
        id=config.feed_id(base),
        urls=urls,
        updated=site_time(newest, config.tz),
        entries=tuple(entries),
        author=lc.author or config.site_title or lc.title,
        copyright=lc.copyright,
        hub=config.hub,
        category=cat,
        category_slug=slug,
        stylesheet=stylesheet_href(lang, slug),               # relative: works wherever OUT is served
        site_title=config.site_title,
        generator_version=version,
    )
