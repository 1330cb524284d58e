"""The feeds and pages as a real browser shows them: `feedpub serve` and headless Chromium, both subprocesses.

The sample site is built with the real command into a temporary OUT, whose
feeds_url is the local server, so the feeds' xml-stylesheet points to the
feed.css that server publishes, exactly as in a real deployment. Chromium is
told to resolve no host but 127.0.0.1 (article images stay unloaded).

Screenshots go to test-artifacts/ at the top of the repository. Without a
Chromium the tests skip, unless FEEDPUB_REQUIRE_BROWSER=1 makes them fail.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import threading
import zlib
from pathlib import Path

import lxml.html
import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
ARTIFACTS = ROOT / "test-artifacts"
NOW_ARG = "2026-11-29T19:00:00+07:00"
BROWSERS = ("chromium", "chromium-browser")
TREE_VIEWER = "This XML file does not appear to have any style information"
SERVER_START_TIMEOUT = 30
BROWSER_TIMEOUT = 90
NOTICE_BG = (0xEE, 0xF5, 0xFD)        # feed.css: the "This is a feed" box
PAGE_ACCENT = (0x0B, 0x5C, 0xAD)      # page.css: the copy buttons


def _browser() -> str | None:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


CHROMIUM = _browser()


@pytest.fixture(scope="module", autouse=True)
def _needs_chromium():
    """Skip without Chromium, or fail when FEEDPUB_REQUIRE_BROWSER=1 says it must be there."""
    if CHROMIUM is None:
        if os.environ.get("FEEDPUB_REQUIRE_BROWSER") == "1":
            pytest.fail("FEEDPUB_REQUIRE_BROWSER=1 but no chromium is installed (apt-get install chromium)",
                        pytrace=False)
        pytest.skip("chromium is not installed (set FEEDPUB_REQUIRE_BROWSER=1 to make this a failure)")


def _env() -> dict:
    return dict(os.environ, PYTHONWARNINGS="ignore", PYTHONUNBUFFERED="1")


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "feedpub", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout, env=_env())


def _stop(proc: subprocess.Popen) -> None:
    """End a process we started, and its process group, whatever state it is in."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)       # leftovers of the group (browser helpers)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


class Site:
    def __init__(self, out: Path, url: str, log: Path, profiles: Path):
        self.out, self.url, self.log, self.profiles = out, url, log, profiles
        self._runs = 0

    def server_log(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def chromium(self, *args: str) -> subprocess.CompletedProcess:
        """One headless Chromium run with a fresh profile, bounded in time, its process group always ended."""
        self._runs += 1
        profile = self.profiles / f"profile-{self._runs}"
        profile.mkdir()
        command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                   "--disable-background-networking", "--disable-component-update", "--disable-sync",
                   "--disable-quic", f"--user-data-dir={profile}",
                   "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                   "--disable-domain-reliability", "--no-pings", "--disable-breakpad",
                   "--hide-scrollbars", *args]
        env = dict(os.environ, HOME=str(profile), XDG_CONFIG_HOME=str(profile / "config"),
                   XDG_CACHE_HOME=str(profile / "cache"))
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                start_new_session=True)
        try:
            stdout, stderr = proc.communicate(timeout=BROWSER_TIMEOUT)
        except subprocess.TimeoutExpired:
            _stop(proc)
            pytest.fail(f"chromium did not finish within {BROWSER_TIMEOUT}s: {' '.join(args)}")
        finally:
            _stop(proc)
        result = subprocess.CompletedProcess(command, proc.returncode, stdout.decode("utf-8", "replace"),
                                             stderr.decode("utf-8", "replace"))
        assert result.returncode == 0, result.stderr[-2000:]
        return result

    def dom(self, path: str) -> str:
        return self.chromium("--dump-dom", self.url + path).stdout

    def screenshot(self, path: str, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        target = ARTIFACTS / name
        target.unlink(missing_ok=True)
        self.chromium(f"--screenshot={target}", "--window-size=1200,1600", self.url + path)
        assert target.is_file(), f"no screenshot of {path}"
        return target


def _read_line(stream, timeout: float) -> str:
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return line[0] if line else ""


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Site:
    base = tmp_path_factory.mktemp("browser")
    out = base / "public"
    out.mkdir()
    log = base / "server.log"
    with open(log, "wb") as log_file:
        server = subprocess.Popen([sys.executable, "-m", "feedpub", "serve", str(out), "--port", "0"],
                                  stdout=subprocess.PIPE, stderr=log_file, text=True, cwd=ROOT, env=_env(),
                                  start_new_session=True)
    try:
        first = _read_line(server.stdout, SERVER_START_TIMEOUT)
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", first)
        assert match, f"feedpub serve did not start: {first!r} {log.read_text(errors='replace')}"
        url = match.group(0)
        # The site as deployed at that address: feeds_url is where OUT is served.
        copy = Path(shutil.copytree(DATA, base / "site"))
        config = copy / "feedpub.toml"
        text = config.read_text(encoding="utf-8")
        config.write_text(text.replace("[site]\n", f'[site]\nfeeds_url = "{url.rstrip("/")}"\n', 1), encoding="utf-8")
        built = _cli("build", "--data", copy, "--out", out, "--now", NOW_ARG)
        assert built.returncode == 0, built.stderr
        profiles = base / "profiles"
        profiles.mkdir()
        yield Site(out, url, log, profiles)
    finally:
        _stop(server)
        if server.stdout:
            server.stdout.close()


# --- screenshots, decoded without extra packages -------------------------------------------------


def _png_rows(path: Path, max_rows: int) -> tuple[int, int, int, list[bytearray]]:
    """(width, height, bytes per pixel, first max_rows rows of pixels) of an 8-bit RGB(A) PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    pos, idat, header = 8, [], None
    while pos < len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        kind, chunk = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat.append(chunk)
        elif kind == b"IEND":
            break
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and color in (2, 6) and interlace == 0, header
    bpp = 3 if color == 2 else 4
    stride = width * bpp
    raw = zlib.decompressobj().decompress(b"".join(idat), (stride + 1) * min(max_rows, height))
    rows, prev = [], bytearray(stride)
    for y in range(min(max_rows, height)):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:
            for x in range(bpp, stride):
                line[x] = (line[x] + line[x - bpp]) & 0xFF
        elif kind == 2:
            for x in range(stride):
                line[x] = (line[x] + prev[x]) & 0xFF
        elif kind == 3:
            for x in range(stride):
                left = line[x - bpp] if x >= bpp else 0
                line[x] = (line[x] + ((left + prev[x]) >> 1)) & 0xFF
        elif kind == 4:
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0
                b = prev[x]
                c = prev[x - bpp] if x >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(line)
        prev = line
    return width, height, bpp, rows


def _count_color(path: Path, rgb: tuple[int, int, int], rows: int) -> int:
    width, _, bpp, lines = _png_rows(path, rows)
    needle = bytes(rgb)
    return sum(1 for line in lines for x in range(0, width * bpp, bpp) if line[x:x + 3] == needle)


def _check_screenshot(path: Path) -> None:
    assert path.stat().st_size > 20_000, f"{path} looks empty"
    width, height, _, _ = _png_rows(path, 1)
    assert (width, height) == (1200, 1600)


# --- the feeds -----------------------------------------------------------------------------------


def _feed_dom(site: Site, path: str) -> etree._Element:
    dom = site.dom(path)
    assert TREE_VIEWER not in dom
    assert not dom.lstrip().startswith("<html"), "rendered as text or a viewer, not as the feed document"
    return etree.fromstring(dom.encode("utf-8"))


def test_vietnamese_rss_is_rendered_with_the_stylesheet(site):
    root = _feed_dom(site, "vi/rss.xml")
    assert root.tag == "rss"
    assert root.findtext("channel/title") == "Tin Long An - Tin mới nhất"
    assert root.findtext("channel/description") == "Tin tức mới nhất về tỉnh Long An"
    items = root.findall("channel/item")
    assert len(items) == 10
    assert "Thu, 02 Dec 2021 23:30:00 +0700" in [i.findtext("pubDate") for i in items]
    assert re.search(r'"GET /feed\.css HTTP/1\.1" 200', site.server_log())
    shot = site.screenshot("vi/rss.xml", "vi-rss.png")
    _check_screenshot(shot)
    assert _count_color(shot, NOTICE_BG, 200) > 5_000, "feed.css was not applied to the RSS feed"


def test_english_atom_is_rendered_with_the_stylesheet(site):
    atom = "{http://www.w3.org/2005/Atom}"
    root = _feed_dom(site, "en/atom.xml")
    assert root.tag == f"{atom}feed"
    assert root.findtext(f"{atom}title") == "Long An News - Latest news"
    entries = root.findall(f"{atom}entry")
    assert len(entries) == 8
    assert "2021-12-03T08:15:00+07:00" in [e.findtext(f"{atom}published") for e in entries]
    shot = site.screenshot("en/atom.xml", "en-atom.png")
    _check_screenshot(shot)
    assert _count_color(shot, NOTICE_BG, 200) > 5_000, "feed.css was not applied to the Atom feed"


# --- the pages -----------------------------------------------------------------------------------


def _page(site: Site, path: str):
    dom = site.dom(path)
    return lxml.html.fromstring(dom)


def _texts(doc, xpath: str) -> list[str]:
    return [" ".join(e.text_content().split()) for e in doc.xpath(xpath)]


def test_vietnamese_feed_page(site):
    doc = _page(site, "vi/")
    assert doc.get("lang") == "vi"
    assert _texts(doc, "//h1") == ["Tin Long An - Tin mới nhất"]
    assert _texts(doc, "//h2[@id='subscribe-title']") == ["Theo dõi"]
    assert _texts(doc, "//h2[@id='news-title']") == ["Tin mới nhất (10 tin)"]
    assert len(doc.xpath("//ol[@class='items']/li")) == 10
    assert "02/12/2021 - 23:30" in _texts(doc, "//p[@class='meta']/time")
    buttons = doc.xpath("//button[@data-copy]")
    assert [" ".join(b.text_content().split()) for b in buttons] == ["Sao chép"] * 3
    assert all(b.get("hidden") is None for b in buttons), "the copy script did not run"
    assert doc.xpath("//code[@id='feed-rss']/text()") == [f"{site.url}vi/rss.xml"]
    shot = site.screenshot("vi/", "vi-page.png")
    _check_screenshot(shot)
    assert _count_color(shot, PAGE_ACCENT, 700) > 1_000, "page styles or copy buttons missing"


def test_english_feed_page(site):
    doc = _page(site, "en/index.html")
    assert doc.get("lang") == "en"
    assert _texts(doc, "//h1") == ["Long An News - Latest news"]
    assert _texts(doc, "//h2[@id='subscribe-title']") == ["Subscribe"]
    assert _texts(doc, "//h2[@id='news-title']") == ["Latest news (8 stories)"]
    assert len(doc.xpath("//ol[@class='items']/li")) == 8
    assert "3 December 2021, 08:15" in _texts(doc, "//p[@class='meta']/time")
    assert 'Rice & shrimp: "the <new> model" pays off' in _texts(doc, "//h3/a")
    assert doc.xpath("//h3//new") == []
    assert [" ".join(b.text_content().split()) for b in doc.xpath("//button[@data-copy]")] == ["Copy"] * 3
    shot = site.screenshot("en/index.html", "en-page.png")
    _check_screenshot(shot)


def test_index_page_lists_every_feed(site):
    doc = _page(site, "")
    feeds = sorted(p.parent.relative_to(site.out).as_posix() for p in site.out.rglob("rss.xml"))
    hrefs = set(doc.xpath("//a/@href"))
    assert {f"{d}/index.html" for d in feeds} <= hrefs
    _check_screenshot(site.screenshot("", "index.png"))


def test_category_page_navigation_works_in_the_browser(site):
    doc = _page(site, "vi/categories/dan-van/")
    assert _texts(doc, "//h1") == ["Tin Long An - Tin mới nhất – Dân vận"]
    assert _texts(doc, "//h2[@id='news-title']") == ["Tin mới nhất (2 tin)"]
    log = site.server_log()
    assert '"GET /vi/categories/dan-van/ HTTP/1.1" 200' in log
