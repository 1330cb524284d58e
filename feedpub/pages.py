"""Files published beside the feeds: the pages people read and the lists readers import.

- ``feed.css``: the stylesheet the RSS and Atom files point to, so a feed opened
  in a browser reads as a page; feed readers ignore it.
- ``{lang}/index.html`` and ``{lang}/categories/{slug}/index.html``: one static
  page per feed, in the feed's language, with its newest items, a subscribe box
  and autodiscovery links.
- ``index.html``: every language and every feed.
- ``feeds.opml``: every RSS and Atom feed, grouped by language, for bulk import.

Pure: the same feeds give the same bytes (no build time anywhere). Templates are
Jinja2 with autoescaping on; article text is only ever inserted as text, and
article content (HTML) is not shown on the pages at all.

Every page costs in proportion to what it shows, whatever the number of categories: a language
page lists its categories, a category page links back to it (listing every sibling on every
category page would make a site's pages grow with the square of its categories).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from types import SimpleNamespace
from importlib.resources import files as _resources
from typing import Iterable, NamedTuple, Sequence

from .config import Config
from .dates import site_time, write_date
from .layout import FORMATS, INDEX, OPML, STYLESHEET, feed_dir, feed_urls
from .model import Feed, FeedUrls
from .text import strip_illegal_xml

__all__ = ["INDEX", "OPML", "autodiscovery", "group_feeds", "label_set", "render_feed_page", "render_pages",
           "render_site_files", "render_snippet", "snippet"]

OPML_DOCS = "http://opml.org/spec2.opml"
FALLBACK_LANG = "en"


LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "skip": "Skip to the news",
        "latest": "Latest news",
        "subscribe": "Subscribe",
        "subscribe_intro": "Paste one of these addresses into your feed reader to get new stories as they are published.",
        "copy": "Copy",
        "copied": "Copied",
        "copy_failed": "Select the address and copy it",
        "copy_label": "Copy the {format} address",
        "categories": "Sections",
        "all_news": "All news",
        "other_languages": "Other languages",
        "languages": "Languages",
        "all_feeds": "All feeds",
        "opml": "All feeds as OPML (for importing into a reader)",
        "no_items": "No news yet.",
        "n_items": "{n} stories",
        "one_item": "1 story",
        "updated": "Updated",
        "also_in": "Also in",
        "home": "Website",
        "about": "This is the web page of a news feed. Follow it with a feed reader to see new stories without visiting the site.",
        "index_title": "News feeds",
        "index_intro": "Every feed of this site, by language and section. Each one comes as RSS, Atom and JSON Feed.",
        "feed": "Feed",
        "formats": "Formats",
    },
    "vi": {
        "skip": "Bỏ qua, đến danh sách tin",
        "latest": "Tin mới nhất",
        "subscribe": "Theo dõi",
        "subscribe_intro": "Dán một trong các địa chỉ sau vào trình đọc tin (RSS) để nhận tin mới ngay khi được đăng.",
        "copy": "Sao chép",
        "copied": "Đã sao chép",
        "copy_failed": "Hãy chọn địa chỉ rồi sao chép",
        "copy_label": "Sao chép địa chỉ {format}",
        "categories": "Chuyên mục",
        "all_news": "Tất cả tin",
        "other_languages": "Ngôn ngữ khác",
        "languages": "Ngôn ngữ",
        "all_feeds": "Tất cả nguồn tin",
        "opml": "Danh sách mọi nguồn tin dạng OPML (để nhập vào trình đọc tin)",
        "no_items": "Chưa có tin nào.",
        "n_items": "{n} tin",
        "one_item": "1 tin",
        "updated": "Cập nhật",
        "also_in": "Bản khác",
        "home": "Trang web",
        "about": "Đây là trang của một nguồn tin (feed). Theo dõi bằng trình đọc tin để xem tin mới mà không cần vào trang web.",
        "index_title": "Nguồn tin",
        "index_intro": "Mọi nguồn tin của trang, theo ngôn ngữ và chuyên mục. Mỗi nguồn có ba định dạng RSS, Atom và JSON Feed.",
        "feed": "Nguồn tin",
        "formats": "Định dạng",
    },
}



def _primary(lang: str) -> str:
    return lang.replace("_", "-").split("-")[0].lower()


def label_set(lang: str) -> dict[str, str]:
    """The page labels for a language; English for a language without its own."""
    return LABELS.get(_primary(lang), LABELS[FALLBACK_LANG])


def _labels(lang: str) -> SimpleNamespace:
    """label_set() with attribute access only, so a label named like a dict method stays a label."""
    return SimpleNamespace(**label_set(lang))


def language_name(lang: str) -> str:
    return LANGUAGE_NAMES.get(_primary(lang), lang)


def local_date(dt: datetime, lang: str, config: Config) -> str:
    """Wall-clock time in the site zone as the language prints it ('02/12/2021 - 23:30' in Vietnamese)."""
    return write_date(site_time(dt, config.tz), "page", lang)


def _xml_text(text: str | None) -> str:
    return strip_illegal_xml(text or "")[0]


# --- autodiscovery --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Alternate:
    """One <link rel="alternate"> autodiscovery tag."""

    type: str
    href: str
    hreflang: str
    title: str


def autodiscovery(lang: str, title: str, urls: FeedUrls) -> list[Alternate]:
    """RSS, Atom and JSON Feed autodiscovery links of one feed."""
    return [Alternate(f.media_type, getattr(urls, f.key), lang, f"{title} ({f.name})") for f in FORMATS]


def language_urls(config: Config, lang: str, slug: str | None = None) -> FeedUrls:
    """Where a language's (or category's) feeds are published: the same URLs feeds.build_feeds uses."""
    return feed_urls(config.feeds_url, lang, slug)


# --- templates ------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined
    env = Environment(
        loader=PackageLoader("feedpub", "templates"),
        autoescape=True,                 # every template, whatever its name
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env


def warm_templates() -> None:
    """Compile the page templates ahead of time (while record files are being read)."""
    env = _environment()
    # The pages, and what they extend, import and include (otherwise compiled at the first page).
    for name in ("feed.html", "index.html", "base.html", "_macros.html", "page.css", "copy.js"):
        env.get_template(name)


def _render(name: str, **context) -> bytes:
    return _environment().get_template(name).render(**context).encode("utf-8")


def _rel(from_page: str, target: str) -> str:
    """Relative URL from one file of OUT to another (both relative to OUT), so the pages work
    wherever OUT is served: the folders they share dropped, one "../" for each folder left."""
    here = from_page.split("/")[:-1]
    there = target.split("/")
    shared = 0
    while shared < len(here) and shared < len(there) - 1 and here[shared] == there[shared]:
        shared += 1
    return "../" * (len(here) - shared) + "/".join(there[shared:])


def _page_path(feed: Feed) -> str:
    return f"{feed_dir(feed.lang, feed.category_slug)}/{INDEX}"


def _formats(urls: FeedUrls) -> list[dict]:
    return [{"key": f.key, "name": f.name, "type": f.media_type, "url": getattr(urls, f.key)} for f in FORMATS]


def _item(entry, lang: str, config: Config, page: str, category_pages: dict[str, str]) -> dict:
    a = entry.article
    published = site_time(a.published, config.tz)
    return {
        "title": a.title,
        "url": a.url,
        "lang": a.lang,
        "summary": a.summary,
        "image": a.image,
        "published": local_date(published, lang, config),
        "published_iso": write_date(published, "rfc3339"),
        "author": a.author.name if a.author else None,
        "categories": [{"name": c, "href": _rel(page, category_pages[c]) if c in category_pages else None}
                       for c in a.categories],
        "translations": [{"lang": t.lang, "url": t.url, "title": t.title, "language": language_name(t.lang)}
                         for t in entry.translations],
    }


class _Language(NamedTuple):
    main: Feed | None                  # the language feed
    cats: list[Feed]                   # its category feeds, in slug order
    pages: dict[str, str]              # category -> the path of its page


def _language_feeds(feeds: Sequence[Feed]) -> dict[str, _Language]:
    """lang -> its feeds and category pages, languages in code order."""
    grouped: dict[str, _Language] = {}
    for feed in sorted(feeds, key=lambda f: (f.lang, f.category is not None, f.category_slug or "",
                                             f.category or "")):
        lang = grouped.setdefault(feed.lang, _Language(None, [], {}))
        if feed.category is None:
            grouped[feed.lang] = lang._replace(main=feed)
        else:
            lang.cats.append(feed)
            lang.pages[feed.category] = _page_path(feed)
    return grouped


def _feed_page(config: Config, feed: Feed, grouped) -> bytes:
    page = _page_path(feed)
    main, cats, category_pages = grouped[feed.lang]
    labels = _labels(feed.lang)
    alternates = autodiscovery(feed.lang, feed.title, feed.urls)
    if feed.category is not None and main is not None:
        alternates += autodiscovery(main.lang, main.title, main.urls)
    others = [{"lang": lang, "name": language_name(lang), "title": other.title,
               "href": _rel(page, _page_path(other))}
              for lang, (other, _, _) in grouped.items() if lang != feed.lang and other is not None]
    count = len(feed.entries)
    return _render(
        "feed.html",
        lang=feed.lang,
        labels=labels,
        feed=feed,
        site_title=config.site_title,
        alternates=alternates,
        formats=_formats(feed.urls),
        items=[_item(e, feed.lang, config, page, category_pages) for e in feed.entries],
        count_text=labels.one_item if count == 1 else labels.n_items.format(n=count),
        updated=local_date(feed.updated, feed.lang, config) if feed.entries else None,
        updated_iso=write_date(feed.updated, "rfc3339"),
        main={"title": main.title, "href": _rel(page, _page_path(main))}
        if feed.category is not None and main is not None else None,
        categories=[{"name": c.category, "href": _rel(page, _page_path(c)), "current": False} for c in cats]
        if feed.category is None else [{"name": feed.category, "href": _rel(page, page), "current": True}],
        others=others,
        index_href=_rel(page, INDEX),
        opml_href=_rel(page, OPML),
    )


def _index_page(config: Config, grouped) -> bytes:
    languages = []
    alternates: list[Alternate] = []
    for lang, (main, cats, _) in grouped.items():
        labels = _labels(lang)
        entries = []
        for feed in ([main] if main is not None else []) + cats:
            entries.append({
                "title": feed.category if feed.category is not None else labels.all_news,
                "full_title": feed.title,
                "href": _page_path(feed),
                "count": len(feed.entries),
                "formats": _formats(feed.urls),
            })
        if main is not None:
            alternates += autodiscovery(lang, main.title, main.urls)
        languages.append({"lang": lang, "name": language_name(lang), "labels": labels,
                          "title": main.title if main is not None else language_name(lang),
                          "description": main.description if main is not None else "",
                          "feeds": entries})
    return _render(
        "index.html",
        lang=FALLBACK_LANG,
        labels=_labels(FALLBACK_LANG),
        site_title=config.site_title,
        alternates=alternates,
        languages=languages,
        opml_href=OPML,
    )


def _opml(config: Config, grouped) -> bytes:
    """OPML 2.0: one outline per language, holding an RSS and an Atom outline for each of its feeds."""
    from lxml import etree
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    title = config.site_title or "feedpub"
    etree.SubElement(head, "title").text = _xml_text(title)
    newest = [f.updated for main, cats, _ in grouped.values() for f in ([main] if main else []) + cats]
    if newest:
        etree.SubElement(head, "dateModified").text = write_date(max(newest), "rfc822")
    etree.SubElement(head, "docs").text = OPML_DOCS
    body = etree.SubElement(root, "body")
    for lang, (main, cats, _) in grouped.items():
        group = etree.SubElement(body, "outline", text=_xml_text(language_name(lang)),
                                 title=_xml_text(language_name(lang)), language=lang)
        for feed in ([main] if main is not None else []) + cats:
            html_url = feed.urls.page
            for key, name in ((f.key, f.name) for f in FORMATS[:2]):
                label = _xml_text(f"{feed.title} ({name})")
                attrs = {"type": "rss", "text": label, "title": label, "xmlUrl": getattr(feed.urls, key),
                         "htmlUrl": html_url, "language": feed.lang}
                if feed.description:
                    attrs["description"] = _xml_text(feed.description)
                if key == "rss":
                    attrs["version"] = "RSS2"
                etree.SubElement(group, "outline", attrs)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(root, encoding="UTF-8", xml_declaration=False,
                                                                        pretty_print=True)


def group_feeds(feeds: Iterable[Feed]):
    """The feeds as the pages link them: lang -> (language feed, category feeds in slug order)."""
    return _language_feeds(list(feeds))


def render_feed_page(config: Config, feed: Feed, grouped) -> tuple[str, bytes]:
    """(path, bytes) of one feed's page; grouped is group_feeds() of every feed of the run."""
    return _page_path(feed), _feed_page(config, feed, grouped)


def render_site_files(config: Config, grouped) -> dict[str, bytes]:
    """Relative path -> bytes for the files of OUT that belong to no one feed: stylesheet, index, OPML."""
    return {
        STYLESHEET: _resources("feedpub").joinpath("static", STYLESHEET).read_bytes(),
        INDEX: _index_page(config, grouped),
        OPML: _opml(config, grouped),
    }


def render_pages(config: Config, feeds: Iterable[Feed]) -> dict[str, bytes]:
    """Relative path -> bytes for every non-feed file of OUT: stylesheet, pages and OPML."""
    feeds = list(feeds)
    grouped = _language_feeds(feeds)
    site = render_site_files(config, grouped)
    files: dict[str, bytes] = {STYLESHEET: site[STYLESHEET]}
    for feed in feeds:
        files[_page_path(feed)] = _feed_page(config, feed, grouped)
    files[INDEX] = site[INDEX]
    files[OPML] = site[OPML]
    return files


# --- snippet --------------------------------------------------------------------------------


def render_snippet(config: Config, langs: Iterable[str] | None = None) -> str:
    """The autodiscovery tags a site pastes into the <head> of its own pages, per language."""
    wanted = list(config.languages) if langs is None else list(langs)
    unknown = [lang for lang in wanted if lang not in config.languages]
    if unknown:
        from .errors import ConfigError
        known = ", ".join(config.languages)
        raise ConfigError(f"unknown language {unknown[0]!r} (expected one of: {known})")
    groups = [{"lang": lang, "name": language_name(lang),
               "alternates": autodiscovery(lang, config.languages[lang].title, language_urls(config, lang))}
              for lang in wanted]
    return _render("snippet.html", groups=groups).decode("utf-8")


def snippet(site_dir="data", langs: Iterable[str] | None = None) -> str:
    """render_snippet() for the site in site_dir (reads only its feedpub.toml)."""
    from pathlib import Path

    from .config import load_config
    return render_snippet(load_config(Path(site_dir)), langs)
