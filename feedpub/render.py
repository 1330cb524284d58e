"""Every file of OUT as bytes: the three formats and the page of each feed, then the site's own files
(render_xml, render_json and pages do the writing; this module decides what is written where, and
on which core)."""
from __future__ import annotations

from itertools import accumulate
from typing import Iterator, Sequence

from .config import Config
from .layout import INDEX, OPML, STYLESHEET, feed_files

__all__ = ["planned_outputs", "render_outputs", "warm_up"]

# Below this many items in all, a second process costs more than it saves.
PARALLEL_ITEMS = 300


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


def render_outputs(config: Config, feeds, *, kept: frozenset = frozenset()) -> Iterator[tuple[str, bytes]]:
    """Every file of OUT as (path, bytes), one at a time: per feed its three formats and its page,
    then the stylesheet, the index page and the OPML. The feeds whose (lang, category) keys are
    in `kept` are left out (their files are already right); the site's files list them still.

    On a site big enough for it, the feeds of the later languages are rendered by a forked child
    while this process renders the others (forked.Offloaded); their files still come out here one
    at a time, and the bytes are the same either way.
    """
    from .forked import Offloaded, spare_core
    from .pages import group_feeds, render_site_files
    feeds = list(feeds)
    grouped = group_feeds(feeds)
    rendered = [feed for feed in feeds if (feed.lang, feed.category) not in kept]
    mine, theirs = _shares(rendered) if spare_core() else (rendered, [])
    if not theirs:
        yield from _feed_files(config, mine, grouped)
    else:
        with Offloaded(lambda: _feed_files(config, theirs, grouped)) as child:
            yield from _feed_files(config, mine, grouped)
            yield from child.results()
    yield from render_site_files(config, grouped).items()


def _shares(feeds: Sequence) -> tuple[list, list]:
    """The feeds split in two runs of about equal work (items), languages kept together where they
    can be: feeds come sorted by language, and a language feed shares its entries with its category
    feeds. ([], feeds) when the site is too small to be worth a second process."""
    weights = [len(feed.entries) + 1 for feed in feeds]
    total = sum(weights)
    if len(feeds) < 2 or total < PARALLEL_ITEMS:
        return list(feeds), []
    langs = [feed.lang for feed in feeds]
    before = [0, *accumulate(weights)]                       # before[i]: the work of feeds[:i]
    cuts = [i for i in range(1, len(feeds)) if langs[i] != langs[i - 1]] or list(range(1, len(feeds)))
    half = total / 2
    best = min(cuts, key=lambda i: abs(before[i] - half))
    if abs(before[best] - half) > total / 4:                 # one language is most of the work
        best = min(range(1, len(feeds)), key=lambda i: abs(before[i] - half))
    return list(feeds[:best]), list(feeds[best:])


def _feed_files(config: Config, feeds, grouped) -> Iterator[tuple[str, bytes]]:
    from .pages import render_feed_page
    from .render_json import render_json
    from .render_xml import SharedEntries, render_atom, render_rss
    shared = SharedEntries(feeds)              # an article in several of these feeds is built once
    for feed in feeds:
        files = feed_files(feed.lang, feed.category_slug)
        yield files["rss"], render_rss(feed, shared)
        yield files["atom"], render_atom(feed, shared)
        yield files["json"], render_json(feed)
        yield render_feed_page(config, feed, grouped)
