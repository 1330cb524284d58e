"""Every file of OUT as bytes: the three formats of each feed, then the pages (render_xml,
render_json and pages do the writing; this module only decides what is written where)."""
from __future__ import annotations

from typing import Iterator

from .config import Config
from .layout import INDEX, OPML, STYLESHEET, feed_files

__all__ = ["planned_outputs", "render_outputs", "warm_up"]


def warm_up() -> None:
    """Import the renderers and compile the page templates: done while scan workers read files."""
    from . import feeds, render_json, render_xml, sanitize  # noqa: F401
    from .pages import warm_templates
    warm_templates()


def planned_outputs(feeds) -> frozenset[str]:
    """Every file a publish of these feeds writes: three formats and a page per feed, and the site files."""
    paths = {INDEX, OPML, STYLESHEET}
    for feed in feeds:
        paths.update(feed_files(feed.lang, feed.category_slug).values())
    return frozenset(paths)


def render_outputs(config: Config, feeds) -> Iterator[tuple[str, bytes]]:
    """Every file of OUT as (path, bytes), one at a time: three formats per feed, then the pages."""
    from .pages import render_pages
    from .render_json import render_json
    from .render_xml import render_atom, render_rss
    for feed in feeds:
        files = feed_files(feed.lang, feed.category_slug)
        yield files["rss"], render_rss(feed)
        yield files["atom"], render_atom(feed)
        yield files["json"], render_json(feed)
    yield from render_pages(config, feeds).items()
