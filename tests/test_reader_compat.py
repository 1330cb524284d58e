"""Real feed readers read every feed of a build, and every item must come out as its record says.

The bundled sample site plus tests/readers/edge-cases.jsonl (no author, no summary, images without a
size, a translation pair, markup characters in titles, a category with "&") is built once. Every
generated feed, language and category, in each format a client reads, goes through each client's
own parser: a small dumper per client (tests/readers/) prints what the client reports as JSON, and
this module compares each property of each item with the record, value for value.

Clients: feedparser (Python), gofeed (Go, Debian's packaged sources), XML::Feed (Perl), Ruby's rss,
newsboat (over HTTP, read back from its SQLite cache), and npm's rss-parser,
@rowanmanning/feed-parser and feedsmith (from FEEDPUB_NODE_MODULES, default .ci-node/node_modules).
A client that is not installed is skipped with the reason; FEEDPUB_REQUIRE_READERS=1 (set by CI)
turns that into a failure. Where a client legitimately reports a property differently or not at
all, TABLE says so and why; everything else is compared.
"""
from __future__ import annotations

import calendar
import json
import os
import shutil
import sqlite3
import subprocess
import threading
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

import lxml.html
import pytest

import feedpub
from conftest import DATA, NOW, ROOT
from feedpub.sanitize import clean_html

READERS = ROOT / "tests" / "readers"
EDGE_CASES = READERS / "edge-cases.jsonl"
NODE_MODULES = Path(os.environ.get("FEEDPUB_NODE_MODULES") or ROOT / ".ci-node" / "node_modules")
GOPATH = os.environ.get("FEEDPUB_GOPATH", "/usr/share/gocode")
REQUIRE = os.environ.get("FEEDPUB_REQUIRE_READERS") == "1"
TIMEOUT = 180

FORMATS = {"rss": "rss.xml", "atom": "atom.xml", "json": "feed.json"}
PROPERTIES = ("id", "link", "links", "title", "published", "updated", "author", "categories", "image",
              "image_length", "content")


@dataclass(frozen=True)
class Absent:
    """The client does not report this property (its value must be empty, so the table stays true)."""
    why: str


@dataclass(frozen=True)
class Differs:
    """The client reports this property, but not as the feed says, for a reason outside feedpub."""
    why: str


COMPARED = None


class OneOf(tuple):
    """An expected value that may legitimately be any of these."""

    def __new__(cls, *values):
        return super().__new__(cls, values)


# What a format itself cannot carry, whatever the client: never compared.
FORMAT_GAPS = {
    ("rss", "updated"): "RSS 2.0 items have no update date, only pubDate",
    ("rss", "links"): "an RSS item has one <link>",
    ("json", "links"): "a JSON Feed item has one url (translations are in _feedpub)",
}

# Per client: the formats it reads, then every property it does not report (Absent) or reports
# differently for a reason outside feedpub (Differs); a dict narrows a rule to some formats.
# Every other (client, property, format) is compared for every item of every feed.
ONE_LINK = {"atom": Absent("gives only the link it chose, not the entry's list of links")}
TABLE: dict[str, dict] = {
    "feedparser": {"formats": ("rss", "atom")},
    "gofeed": {
        "formats": ("rss", "atom", "json"),
        "links": {"atom": Absent("Item.Links lists alternate hrefs without rel or hreflang; Item.Link is "
                                 "compared")},
        "image_length": {"json": Differs("gofeed 1.1.3 fills a JSON Feed attachment's length from "
                                         "duration_in_seconds instead of size_in_bytes")},
    },
    "xml-feed": {"formats": ("rss", "atom"), "links": ONE_LINK},
    "ruby-rss": {"formats": ("rss", "atom")},
    "newsboat": {
        "formats": ("rss", "atom"),
        "links": ONE_LINK,
        "updated": {"atom": Absent("its cache keeps one date per item, pubDate")},
        "categories": Absent("its cache keeps no categories"),
        "image": Absent("it keeps only audio and video enclosures (podcasts), never images"),
        "image_length": Absent("it keeps no enclosure length"),
    },
    "rss-parser": {
        "formats": ("rss", "atom"),
        "links": ONE_LINK,
        "updated": {"atom": Absent("an item has one date, isoDate (an Atom entry's published)")},
        "categories": {"atom": Absent("reads categories from RSS only")},
        "image": {"atom": Absent("reads enclosures from RSS only")},
        "image_length": {"atom": Absent("reads enclosures from RSS only")},
    },
    "feed-parser": {"formats": ("rss", "atom"), "links": ONE_LINK},
    "feedsmith": {
        "formats": ("rss", "atom", "json"),
        "link": {"atom": Absent("returns an entry's links as written and chooses none: the whole "
                                "ordered list is compared as links")},
    },
}


def rule(client: str, prop: str, fmt: str):
    """COMPARED, or the Absent/Differs that TABLE declares for this client, property and format."""
    entry = TABLE[client].get(prop, COMPARED)
    return entry.get(fmt, COMPARED) if isinstance(entry, dict) else entry


# --- the build and what every record should look like -------------------------------------------


@dataclass(frozen=True)
class Feed:
    rel: str                   # e.g. vi/categories/chinh-tri (the folder under OUT)
    ids: frozenset[str]        # guids of the items it must carry


class Site:
    """The built OUT, its feeds, and per guid the expected value of every property in every format."""

    def __init__(self, root: Path):
        site = Path(shutil.copytree(DATA, root / "site"))
        shutil.copy(EDGE_CASES, site / "articles" / "edge-cases.jsonl")
        self.out = root / "public"
        report = feedpub.build(site, self.out, now=NOW, state_path=root / "state.sqlite")
        assert report.errors == [], report.errors
        self.config = feedpub.load_config(site)
        self.articles = [a for a in _articles(site, self.config) if not a.draft and a.published <= NOW]
        self.feeds = self._feeds()
        self.expected = {self.guid(a.id): {fmt: self._expect(a, fmt) for fmt in FORMATS} for a in self.articles}

    def guid(self, record_id: str) -> str:
        return f"{self.config.base_url}/id/{quote(record_id, safe='')}"

    def files(self, formats) -> list[tuple[Feed, str, Path]]:
        return [(feed, fmt, self.out / feed.rel / FORMATS[fmt]) for feed in self.feeds for fmt in formats]

    def _feeds(self) -> list[Feed]:
        from feedpub.slugs import unique_slugs
        feeds = []
        for lang in self.config.languages:
            mine = sorted(self.articles, key=lambda a: a.published, reverse=True)
            mine = [a for a in mine if a.lang == lang][: self.config.max_items]
            feeds.append(Feed(lang, frozenset(self.guid(a.id) for a in mine)))
            names = {c for a in mine for c in a.categories}
            for name, slug in unique_slugs(sorted(names)).items():
                ids = frozenset(self.guid(a.id) for a in mine if name in a.categories)
                feeds.append(Feed(f"{lang}/categories/{slug}", ids))
        written = {p.parent.relative_to(self.out).as_posix() for p in self.out.rglob("atom.xml")}
        assert written == {f.rel for f in feeds}
        return feeds

    def _translations(self, article) -> list:
        if not article.translation_key:
            return []
        return sorted((a for a in self.articles if a.translation_key == article.translation_key
                       and a.lang != article.lang), key=lambda a: a.lang)

    def _inherited_author(self, a, fmt: str):
        """An entry without an author: none in RSS; in Atom (RFC 4287 4.2.1) and JSON Feed the feed's
        author applies, and a client may report either."""
        if fmt == "rss":
            return None
        lc = self.config.languages[a.lang]
        return OneOf(None, lc.author or self.config.site_title or lc.title)

    def _expect(self, a, fmt: str) -> dict:
        image = a.image
        length = image.length if image else None
        if image and fmt == "rss":
            length = length or 0                     # an RSS enclosure always has a length
        links = None
        if fmt == "atom":
            others = self._translations(a)
            links = [["alternate", a.url, a.lang]] + [["alternate", t.url, t.lang] for t in others]
            links += [["alternate", a.url, None]] if others else []
            links += [["enclosure", image.url, None]] if image else []
        return {
            "id": self.guid(a.id),
            "link": a.url,
            "links": links,
            "title": a.title,
            "published": utc(a.published),
            "updated": utc(a.updated),
            "author": a.author.name if a.author else self._inherited_author(a, fmt),
            "categories": list(a.categories),
            "image": image.url if image else None,
            "image_length": length,
            "content": clean_html(a.content, a.url) if a.content else None,   # as published: sanitised
        }


def _articles(site: Path, config) -> list:
    from feedpub.ingest.files import site_files
    from feedpub.records import RecordRules
    rules = RecordRules.for_config(config)
    articles = []
    for rel in site_files(site).signatures:
        path = site / rel
        text = path.read_text(encoding="utf-8-sig")
        if path.suffix == ".jsonl":
            records = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            doc = json.loads(text)
            records = doc if isinstance(doc, list) else [doc]
        for n, record in enumerate(records, 1):
            article, errors, _ = rules.check(record, rel, n)
            assert article is not None, errors
            articles.append(article)
    return articles


def utc(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def html_value(html: str | None, base: str):
    """HTML as what it means: elements, sorted attributes (URLs absolute), text with whitespace folded.

    Two strings with the same value render the same page; any changed word, tag or attribute differs."""
    if not html:
        return None
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    root.make_links_absolute(base, resolve_base_href=False)

    def fold(text):
        return " ".join((text or "").split())

    def walk(el):
        return [el.tag, sorted(el.attrib.items()), fold(el.text),
                [walk(child) for child in el], fold(el.tail)]

    return walk(root)[2:4]


def normalise(prop: str, value, base: str):
    """A reported or expected value in the form both are compared in (base: the article's URL)."""
    if prop == "image_length":
        return int(value) if value not in (None, "") else None
    if prop == "content":
        return html_value(value, base)
    if prop == "categories":
        return list(value or [])
    if isinstance(value, OneOf):
        return OneOf(*(normalise(prop, v, base) for v in value))
    return value


def same(value, expected) -> bool:
    return value in expected if isinstance(expected, OneOf) else value == expected


# --- the clients ----------------------------------------------------------------------------------


def _missing(reason: str):
    if REQUIRE:
        pytest.fail(f"FEEDPUB_REQUIRE_READERS=1 but {reason}", pytrace=False)
    pytest.skip(f"{reason} (set FEEDPUB_REQUIRE_READERS=1 to make this a failure)")


def _run(args: list[str], files: list[Path], env: dict | None = None) -> dict:
    result = subprocess.run([*args, *map(str, files)], capture_output=True, text=True, timeout=TIMEOUT,
                            env=dict(os.environ, **(env or {})), cwd=READERS)
    assert result.returncode == 0, f"{args[0]} exited {result.returncode}: {result.stderr[-2000:]}"
    return {Path(k): v for k, v in json.loads(result.stdout).items()}


def _need_program(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        _missing(f"{name} is not installed (apt-get install {package})")
    return path


def _check_import(args: list[str], what: str, package: str) -> None:
    probe = subprocess.run(args, capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        _missing(f"{what} is not available ({package}): {probe.stderr.strip()[-300:]}")


@pytest.fixture(scope="session")
def gofeed_binary(tmp_path_factory) -> Path | str:
    """The gofeed dumper, built offline against Debian's packaged gofeed; a string says why not."""
    if shutil.which("go") is None:
        return "go is not installed (apt-get install golang-go)"
    if not (Path(GOPATH) / "src" / "github.com" / "mmcdole" / "gofeed").is_dir():
        return f"gofeed is not in {GOPATH} (apt-get install golang-github-mmcdole-gofeed-dev)"
    binary = tmp_path_factory.mktemp("gofeed") / "gofeed-dump"
    env = dict(os.environ, GO111MODULE="off", GOPATH=GOPATH, GOFLAGS="")
    if not (env.get("GOCACHE") or env.get("XDG_CACHE_HOME") or env.get("HOME")):
        env["GOCACHE"] = str(tmp_path_factory.mktemp("gocache"))
    result = subprocess.run(["go", "build", "-o", str(binary), "gofeed_dump.go"], cwd=READERS, env=env,
                            capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        return f"the gofeed dumper does not build: {result.stderr.strip()[-1000:]}"
    return binary


def read_feedparser(files: list[Path], **_) -> dict:
    try:
        import feedparser
    except ImportError:
        _missing("feedparser is not installed (pip install -e '.[test]')")

    def instant(parsed):
        return utc(datetime.fromtimestamp(calendar.timegm(parsed), timezone.utc)) if parsed else None

    def item(e, atom: bool) -> dict:
        enclosure = (e.get("enclosures") or [None])[0]
        content = e.content[0].value if e.get("content") else e.get("summary")
        author = e.get("author_detail", {}).get("name") or e.get("author")
        return {
            "id": e.get("id"), "link": e.get("link"), "title": e.get("title"),
            "links": [[l.get("rel"), l.get("href"), l.get("hreflang")] for l in e.get("links", [])] if atom else None,
            "published": instant(e.get("published_parsed")),
            "updated": instant(e["updated_parsed"]) if "updated_parsed" in e else None,   # no fallback to published
            "author": author, "categories": [t.term for t in e.get("tags", [])],
            "image": enclosure.get("href") if enclosure else None,
            "image_length": enclosure.get("length") if enclosure else None,
            "content": content,
        }

    result = {}
    for path in files:
        parsed = feedparser.parse(path.read_bytes())
        if parsed.bozo:
            result[path] = {"error": str(parsed.bozo_exception)}
        else:
            atom = parsed.version.startswith("atom")
            result[path] = {"items": [item(e, atom) for e in parsed.entries]}
    return result


def read_gofeed(files: list[Path], gofeed_binary, **_) -> dict:
    if isinstance(gofeed_binary, str):
        _missing(gofeed_binary)
    return _run([str(gofeed_binary)], files)


def read_xml_feed(files: list[Path], **_) -> dict:
    perl = _need_program("perl", "perl")
    _check_import([perl, "-MXML::Feed", "-MJSON::PP", "-e1"], "Perl's XML::Feed", "apt-get install libxml-feed-perl")
    return _run([perl, "xml_feed_dump.pl"], files)


def read_ruby_rss(files: list[Path], **_) -> dict:
    ruby = _need_program("ruby", "ruby")
    _check_import([ruby, "-rrss", "-rjson", "-e1"], "Ruby's rss library", "apt-get install ruby")
    return _run([ruby, "ruby_rss_dump.rb"], files)


def _node(package: str, script: str, files: list[Path]) -> dict:
    node = _need_program("node", "nodejs")
    if not (NODE_MODULES / package / "package.json").is_file():
        _missing(f"npm's {package} is not in {NODE_MODULES} (npm ci in a copy of tests/readers/, "
                 "or point FEEDPUB_NODE_MODULES at a node_modules that has it)")
    return _run([node, script], files, env={"NODE_PATH": str(NODE_MODULES)})


def read_rss_parser(files, **_):
    return _node("rss-parser", "rss_parser_dump.cjs", files)


def read_feed_parser(files, **_):
    return _node("@rowanmanning/feed-parser", "feed_parser_dump.cjs", files)


def read_feedsmith(files, **_):
    return _node("feedsmith", "feedsmith_dump.cjs", files)


def read_newsboat(files: list[Path], out: Path, tmp_path: Path, **_) -> dict:
    """newsboat fetches each feed from a local server (one cache per feed: it keeps one copy of a
    guid across feeds) and what it stored is read back from its SQLite cache."""
    newsboat = _need_program("newsboat", "newsboat")
    from feedpub.serve import make_server
    server = make_server(out, port=0, log=None)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        return {path: _newsboat_one(newsboat, server.url + path.relative_to(out).as_posix(),
                                    tmp_path / f"newsboat-{n}") for n, path in enumerate(files)}
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _newsboat_one(newsboat: str, url: str, home: Path) -> dict:
    home.mkdir()
    (home / "urls").write_text(url + "\n", encoding="utf-8")
    (home / "config").write_text("", encoding="utf-8")
    env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / "config.d"),
               XDG_DATA_HOME=str(home / "data.d"), no_proxy="*", NO_PROXY="*")
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env.pop(name, None)
    result = subprocess.run([newsboat, "-u", str(home / "urls"), "-C", str(home / "config"),
                             "-c", str(home / "cache.db"), "-x", "reload"],
                            capture_output=True, text=True, timeout=TIMEOUT, env=env, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        return {"error": f"newsboat exited {result.returncode}: {result.stderr[-500:]}"}
    with closing(sqlite3.connect(home / "cache.db")) as db:
        rows = db.execute("SELECT guid, url, title, pubDate, author, content, enclosure_url FROM rss_item "
                          "WHERE feedurl = ?", (url,)).fetchall()
    return {"items": [{
        "id": guid, "link": link, "title": title, "updated": None, "categories": [],
        "published": utc(datetime.fromtimestamp(pub, timezone.utc)) if pub else None,
        "author": author or None, "content": content or None, "image": enclosure or None, "image_length": None,
    } for guid, link, title, pub, author, content, enclosure in rows]}


READ = {
    "feedparser": read_feedparser, "gofeed": read_gofeed, "xml-feed": read_xml_feed,
    "ruby-rss": read_ruby_rss, "newsboat": read_newsboat, "rss-parser": read_rss_parser,
    "feed-parser": read_feed_parser, "feedsmith": read_feedsmith,
}


# --- the tests ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Site:
    return Site(tmp_path_factory.mktemp("readers"))


def test_the_table_names_every_client_and_every_rule_applies_somewhere():
    assert set(TABLE) == set(READ)
    assert len(TABLE) - 1 >= 5, "at least five parsers besides feedparser"
    for client, table in TABLE.items():
        formats = table["formats"]
        assert formats and set(formats) <= set(FORMATS), client
        for prop, entry in table.items():
            if prop == "formats":
                continue
            assert prop in PROPERTIES, (client, prop)
            narrowed = entry if isinstance(entry, dict) else {fmt: entry for fmt in formats}
            for fmt, how in narrowed.items():
                assert fmt in formats and (fmt, prop) not in FORMAT_GAPS, (client, prop, fmt)
                assert isinstance(how, (Absent, Differs)) and how.why, (client, prop, fmt)


def test_the_build_has_what_the_readers_must_show(site):
    """The edge cases are really in the feeds the clients read."""
    edge = {site.guid(i) for i in ("vi-edge-hoi-dap", "en-edge-q-and-a", "vi-edge-anh-dong-lua")}
    assert edge <= {i for f in site.feeds for i in f.ids}
    lengths = {e["rss"]["image_length"] for e in site.expected.values() if e["rss"]["image"]}
    assert 0 in lengths and len(lengths) > 2                  # images with and without a known size
    assert any(e["rss"]["author"] is None for e in site.expected.values())
    assert any(len(e["atom"]["links"]) == 4 for e in site.expected.values())    # translated, with an image
    assert any("/categories/" in f.rel for f in site.feeds)


@pytest.mark.parametrize("client", list(TABLE))
def test_every_reader_shows_every_item_as_its_record_says(client, site, gofeed_binary, tmp_path):
    formats = TABLE[client]["formats"]
    files = site.files(formats)
    reported = READ[client]([path for _, _, path in files], out=site.out, tmp_path=tmp_path,
                            gofeed_binary=gofeed_binary)
    problems: list[str] = []
    differing: dict[tuple[str, str], list[bool]] = {}
    for feed, fmt, path in files:
        where = f"{client} {path.relative_to(site.out)}"
        result = reported[path]
        if "error" in result:
            problems.append(f"{where}: {result['error']}")
            continue
        items = {item["id"]: item for item in result["items"]}
        if set(items) != feed.ids or len(items) != len(result["items"]):
            problems.append(f"{where}: items {sorted(items)} (expected {sorted(feed.ids)})")
        for guid, item in items.items():
            expected = site.expected.get(guid, {}).get(fmt)
            if expected is None:
                continue
            for prop in PROPERTIES:
                if (fmt, prop) in FORMAT_GAPS:
                    continue
                how = rule(client, prop, fmt)
                value = normalise(prop, item.get(prop), expected["link"])
                if isinstance(how, Absent):
                    if value not in (None, []):
                        problems.append(f"{where} {guid} {prop}: reported {value!r}, but the table says "
                                        f"{client} does not report it ({how.why})")
                    continue
                want = normalise(prop, expected[prop], expected["link"])
                if isinstance(how, Differs):
                    differing.setdefault((prop, fmt), []).append(not same(value, want))
                elif not same(value, want):
                    problems.append(f"{where} {guid} {prop}: got {value!r}, expected {want!r}")
    for (prop, fmt), differs in differing.items():
        if not any(differs):
            problems.append(f"{client} {fmt} {prop}: every item is right now; the table's Differs is out of date")
    assert not problems, f"{len(problems)} differences:\n" + "\n".join(problems[:60])
