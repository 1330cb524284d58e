"""Which HTML an article body may keep: the allow-list policy, and the [html] table that sets it.

Part of the configuration (config.py reads [html] through policy_from_config); sanitize.py
applies a policy. Unsafe entries (script, event handlers, javascript: URLs) are refused
whatever the configuration says.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from types import MappingProxyType

__all__ = ["DEFAULT_POLICY", "DROP_WITH_CONTENT", "HOST_NAME", "HtmlPolicy", "SRCSET_ATTRIBUTES", "URL_ATTRIBUTES",
           "policy_from_config"]

DEFAULT_ALLOWED_TAGS: frozenset[str] = frozenset({
    "p", "br", "hr", "div", "span", "a", "strong", "em", "b", "i", "u", "s",
    "sub", "sup", "small", "mark", "abbr", "time", "cite", "q", "blockquote",
    "ul", "ol", "li", "h2", "h3", "h4", "h5", "h6", "pre", "code",
    "figure", "figcaption", "img", "picture", "source", "video", "audio",
    "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td", "iframe",
})

DEFAULT_ALLOWED_IFRAME_HOSTS: frozenset[str] = frozenset({
    "www.youtube.com", "www.youtube-nocookie.com", "player.vimeo.com",
})

DEFAULT_URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto", "tel"})

DEFAULT_ALLOWED_ATTRIBUTES: Mapping[str, frozenset[str]] = MappingProxyType({
    "*": frozenset({"title", "lang", "dir"}),
    "a": frozenset({"href", "hreflang"}),
    "img": frozenset({"src", "srcset", "sizes", "alt", "width", "height", "loading"}),
    "source": frozenset({"src", "srcset", "sizes", "media", "type"}),
    "video": frozenset({"src", "poster", "controls", "width", "height", "preload", "playsinline"}),
    "audio": frozenset({"src", "controls", "preload"}),
    "iframe": frozenset({"src", "width", "height", "allowfullscreen", "loading"}),
    "blockquote": frozenset({"cite"}),
    "q": frozenset({"cite"}),
    "time": frozenset({"datetime"}),
    "ol": frozenset({"start", "reversed"}),
    "th": frozenset({"colspan", "rowspan", "scope"}),
    "td": frozenset({"colspan", "rowspan"}),
})

# Elements removed together with their content: executable, or raw text that
# would come out as visible markup if only the tag were stripped.
DROP_WITH_CONTENT = frozenset({
    "script", "style", "noscript", "template", "title", "textarea", "xmp", "noembed", "noframes",
})
# Never allowed, whatever the configuration says.
_FORBIDDEN_TAGS = DROP_WITH_CONTENT | frozenset({
    "plaintext", "svg", "math", "base", "meta", "link", "object", "embed", "applet",
    "frame", "frameset", "form", "input", "button", "select",
})
_FORBIDDEN_ATTRIBUTES = frozenset({"style", "rel", "srcdoc", "formaction", "action"})
URL_ATTRIBUTES = frozenset({"href", "src", "poster", "cite"})
SRCSET_ATTRIBUTES = frozenset({"srcset"})

_NAME = re.compile(r"[a-z][a-z0-9-]*\Z")
_ATTRIBUTE_NAME = re.compile(r"[a-z][a-z0-9_.:-]*\Z")
HOST_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?\Z")


def _checked_names(values: Iterable[str], key: str, pattern: re.Pattern[str], forbidden: frozenset[str]) -> frozenset[str]:
    """Lower-case names (tags, attributes, schemes) and reject malformed or never-allowed ones, naming key."""
    names = frozenset(str(v).strip().lower() for v in values)
    for name in sorted(names):
        if not pattern.match(name):
            raise ValueError(f"{key}: {name!r} is not a valid name")
        if name in forbidden or (forbidden is _FORBIDDEN_ATTRIBUTES and name.startswith("on")):
            raise ValueError(f"{key}: {name!r} is never allowed in feed content")
    return names


def _checked_attributes(table: Mapping[str, Iterable[str]], key: str) -> Mapping[str, frozenset[str]]:
    """Validate a tag -> attribute names mapping ('*' means every tag) and freeze it."""
    out: dict[str, frozenset[str]] = {}
    for tag in sorted(table):
        name = tag.strip().lower()
        if name != "*" and not _NAME.match(name):
            raise ValueError(f"{key}: {tag!r} is not a valid tag name")
        out[name] = _checked_names(table[tag], f"{key}.{tag}", _ATTRIBUTE_NAME, _FORBIDDEN_ATTRIBUTES)
    return MappingProxyType(out)


def _checked_hosts(values: Iterable[str], key: str) -> frozenset[str]:
    """Lower-case iframe host names and reject anything that is not a bare host name."""
    hosts = frozenset(str(v).strip().lower() for v in values)
    for host in sorted(hosts):
        if not HOST_NAME.match(host) or host.endswith("."):
            raise ValueError(f"{key}: {host!r} is not a host name (no scheme, port or path)")
    return hosts


@dataclass(frozen=True)
class HtmlPolicy:
    """What survives sanitising: tags, attributes per tag ('*' = all), iframe hosts, URL schemes."""

    tags: frozenset[str] = DEFAULT_ALLOWED_TAGS
    attributes: Mapping[str, frozenset[str]] = field(default_factory=lambda: DEFAULT_ALLOWED_ATTRIBUTES, hash=False)
    iframe_hosts: frozenset[str] = DEFAULT_ALLOWED_IFRAME_HOSTS
    url_schemes: frozenset[str] = DEFAULT_URL_SCHEMES

    def __post_init__(self) -> None:
        """Normalise every field to lower-case frozen sets, rejecting unsafe entries."""
        set_ = partial(object.__setattr__, self)
        set_("tags", _checked_names(self.tags, "tags", _NAME, _FORBIDDEN_TAGS))
        set_("attributes", _checked_attributes(self.attributes, "attributes"))
        set_("iframe_hosts", _checked_hosts(self.iframe_hosts, "iframe_hosts"))
        set_("url_schemes", _checked_names(self.url_schemes, "url_schemes", _NAME, frozenset({"javascript", "vbscript", "data"})))


DEFAULT_POLICY = HtmlPolicy()


def _string_list(table: Mapping[str, object], name: str, key: str) -> list[str]:
    """Return table[name] if it is a list of strings, else raise ValueError naming key."""
    value = table[name]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{key} must be a list of strings, got {type(value).__name__}: {value!r}")
    return list(value)


_CONFIG_KEYS = ("allowed_tags", "extra_tags", "allowed_attributes", "iframe_hosts")


def policy_from_config(table: dict) -> HtmlPolicy:
    """Build a policy from the [html] table of feedpub.toml, raising ValueError that names the bad key."""
    if not isinstance(table, Mapping):
        raise ValueError(f"html must be a table, got {type(table).__name__}")
    unknown = sorted(set(table) - set(_CONFIG_KEYS))
    if unknown:
        raise ValueError(f"html.{unknown[0]}: unknown key (expected one of {', '.join(_CONFIG_KEYS)})")
    tags = set(DEFAULT_ALLOWED_TAGS)
    if "allowed_tags" in table:
        tags = set(_checked_names(_string_list(table, "allowed_tags", "html.allowed_tags"), "html.allowed_tags", _NAME, _FORBIDDEN_TAGS))
    if "extra_tags" in table:
        tags |= _checked_names(_string_list(table, "extra_tags", "html.extra_tags"), "html.extra_tags", _NAME, _FORBIDDEN_TAGS)
    attributes = dict(DEFAULT_ALLOWED_ATTRIBUTES)
    if "allowed_attributes" in table:
        given = table["allowed_attributes"]
        if not isinstance(given, Mapping):
            raise ValueError(f"html.allowed_attributes must be a table of tag = [attribute, ...], got {type(given).__name__}")
        lists = {tag: _string_list(given, tag, f"html.allowed_attributes.{tag}") for tag in given}
        attributes.update(_checked_attributes(lists, "html.allowed_attributes"))
    hosts = DEFAULT_ALLOWED_IFRAME_HOSTS
    if "iframe_hosts" in table:
        hosts = _checked_hosts(_string_list(table, "iframe_hosts", "html.iframe_hosts"), "html.iframe_hosts")
    return HtmlPolicy(tags=frozenset(tags), attributes=attributes, iframe_hosts=hosts)


# --- how deep a body nests, measured before the parser sees it -------------------------------------
#
# An HTML parser (html5ever behind nh3, as the HTML standard describes) keeps a stack of open
# elements and walks it for many tags (is a <p> open in scope? where does </span> close?), so a body
# whose stack grows deep costs the square of its depth. html_depth() measures, in one linear pass,
# an upper bound of that stack: the elements a parser would hold open, plus the formatting elements
# it would reopen after a block closed them (at most three alike, as the standard's "Noah's Ark"
# clause keeps). It follows the standard where ordinary bodies depend on it, so that they are not
# counted deeper than they are: void elements, a <p> or <li> left unclosed, table cells, comments,
# CDATA and bogus comments, and the text of <script>, <style>, <textarea> and the like. Where it
# does not model a rule it closes less than a parser would, so it never counts less than a parser
# holds.

_VOID = frozenset("area base basefont bgsound br col embed frame hr image img input keygen link meta param "
                  "source track wbr".split())
_TEXT_ONLY = frozenset("script style xmp iframe noembed noframes textarea title".split())
_FORMATTING = frozenset("a b big code em font i nobr s small strike strong tt u".split())
_SCOPE = frozenset("applet caption html table td th marquee object template foreignobject desc mi mo mn ms "
                   "mtext annotation-xml".split())
_MARKER = frozenset("applet caption marquee object template td th".split())
_SPECIAL = frozenset(
    "address applet area article aside base basefont bgsound blockquote body br button caption center col "
    "colgroup dd details dir div dl dt embed fieldset figcaption figure footer form frame frameset h1 h2 h3 h4 "
    "h5 h6 head header hgroup hr html iframe img input keygen li link listing main marquee menu meta nav noembed "
    "noframes noscript object ol p param plaintext pre script search section select source style summary table "
    "tbody td template textarea tfoot th thead title tr track ul wbr xmp mi mo mn ms mtext annotation-xml "
    "foreignobject desc".split())
_CLOSES_P = frozenset("address article aside blockquote center details dialog dir div dl fieldset figcaption "
                      "figure footer header hgroup main menu nav ol p search section summary ul h1 h2 h3 h4 h5 h6 "
                      "pre listing form hr xmp".split())
_HEADINGS = frozenset("h1 h2 h3 h4 h5 h6".split())
_TABLE_PARTS = frozenset("tbody thead tfoot".split())
_ITEMS = frozenset("li dd dt".split())
_LOOSE = frozenset("address div p li dd dt".split())      # special elements an <li>'s search for an open <li> passes
_TOKEN = re.compile(r"<(?:(!--)|(/?)([A-Za-z][^\t\n\f\r />]*+)|[!?/])")
# The rest of a tag after its name: attributes (quoted values may hold ">"), then ">" or "/>".
# Possessive throughout: an unterminated tag costs one pass, never a backtracking search.
_TAIL = re.compile(r"""(?:\s++|/(?!>)|[^\s/>][^\s/>=]*+(?:\s*+=\s*+(?:"[^"]*+"|'[^']*+'|[^\s>]*+))?+)*+(/?)>""")
_CLOSE_TEXT: dict[str, re.Pattern[str]] = {}


class _Stack:
    """The open elements as a parser would hold them, with what the scope rules ask kept at hand."""

    __slots__ = ("names", "keys", "where", "bounds", "specials", "hard", "frames", "reopen", "deepest")

    def __init__(self) -> None:
        self.names: list[str] = []
        self.keys: list[str | None] = []                   # a formatting element's name and attributes
        self.where: dict[str, list[int]] = {}              # name -> its positions, lowest first
        self.bounds: list[int] = []                        # positions of scope boundaries (table, td, ...)
        self.specials: list[int] = []                      # positions of special elements
        self.hard: list[int] = []                          # special elements an <li> search stops at
        self.frames: list[dict[str, int]] = [{}]           # formatting to reopen, per table cell (marker)
        self.reopen = 0                                    # their number, all frames
        self.deepest = 0

    def top(self, name: str) -> int:
        spots = self.where.get(name)
        return spots[-1] if spots else -1

    @staticmethod
    def last(spots: list[int]) -> int:
        return spots[-1] if spots else -1

    def push(self, name: str, key: str | None = None) -> None:
        at = len(self.names)
        self.names.append(name)
        self.keys.append(key)
        self.where.setdefault(name, []).append(at)
        if name in _SCOPE:
            self.bounds.append(at)
        if name in _SPECIAL:
            self.specials.append(at)
            if name not in _LOOSE:
                self.hard.append(at)
        if name in _MARKER:
            self.frames.append({})
        self.note(0)

    def note(self, extra: int) -> None:
        depth = len(self.names) + self.reopen + extra
        if depth > self.deepest:
            self.deepest = depth

    def pop_to(self, at: int, closed_by_own_end_tag: bool = False) -> None:
        """Pop every element from the top down to the one at position `at`, that one included."""
        names, keys = self.names, self.keys
        while len(names) > at:
            i = len(names) - 1
            name, key = names.pop(), keys.pop()
            self.where[name].pop()
            for spots in (self.bounds, self.specials, self.hard):
                if spots and spots[-1] == i:
                    spots.pop()
            if name in _MARKER:
                frame = self.frames.pop()
                self.reopen -= sum(frame.values())
            elif key is not None and not (closed_by_own_end_tag and i == at):
                frame = self.frames[-1]
                if frame.get(key, 0) < 3:                  # Noah's Ark: at most three alike
                    frame[key] = frame.get(key, 0) + 1
                    self.reopen += 1

    def in_scope(self, name: str, *extra: str) -> int:
        """Position of the open `name` if it is in scope (no boundary, nor any of `extra`, above it)."""
        at = self.top(name)
        if at < 0:
            return -1
        limit = self.last(self.bounds)
        for other in extra:
            limit = max(limit, self.top(other))
        return at if at > limit else -1


def _start(stack: _Stack, name: str, attrs: str, self_closing: bool, foreign: bool) -> None:
    if name in _VOID:
        stack.note(1)
        return
    if name in _CLOSES_P or name in _ITEMS:
        at = stack.in_scope("p", "button")
        if at >= 0:
            stack.pop_to(at)
    if name in _ITEMS:                                     # an open item of the same list closes
        if name == "li":
            at, stops = stack.top("li"), (stack.top("dd"), stack.top("dt"))
        else:
            at, stops = max(stack.top("dd"), stack.top("dt")), (stack.top("li"),)
        if at > max(stack.last(stack.hard), *stops):
            stack.pop_to(at)
    elif name in _HEADINGS and stack.names and stack.names[-1] in _HEADINGS:
        stack.pop_to(len(stack.names) - 1)
    elif name == "a":
        at = stack.top("a")
        if at > stack.last(stack.specials):
            stack.pop_to(at, True)
    elif name in ("button", "option", "optgroup"):
        at = stack.in_scope(name) if name == "button" else (len(stack.names) - 1 if stack.names and
                                                            stack.names[-1] == "option" else -1)
        if at >= 0:
            stack.pop_to(at, name == "button")
    elif name in ("tr", "td", "th") or name in _TABLE_PARTS:
        kin = ("td", "th") if name in ("td", "th") else ("tr",) if name == "tr" else tuple(_TABLE_PARTS)
        table = stack.top("table")
        at = max(stack.top(n) for n in kin)
        if at > table:
            stack.pop_to(at, True)
        if table >= 0 and name != "tbody" and name not in _TABLE_PARTS:    # the parts a parser adds
            if max(stack.top(n) for n in _TABLE_PARTS) < table:
                stack.push("tbody")
            if name != "tr" and stack.top("tr") < table:
                stack.push("tr")
    stack.push(name, f"{name} {' '.join(attrs.lower().split())}" if name in _FORMATTING else None)
    if foreign and self_closing:
        stack.pop_to(len(stack.names) - 1, True)


def _end(stack: _Stack, name: str) -> None:
    if name in _FORMATTING or name not in _SPECIAL:
        at = stack.top(name)                               # closes only if no special element is above
        if at > stack.last(stack.specials):
            stack.pop_to(at, True)
        return
    if name == "p":
        at = stack.in_scope("p", "button")
    elif name == "li":
        at = stack.in_scope("li", "ol", "ul")
    elif name in _HEADINGS:
        at = max(stack.in_scope(h) for h in _HEADINGS)
    elif name in ("body", "html", "br"):
        stack.note(1)
        return
    elif name in ("table", "tr", "td", "th", "tbody", "thead", "tfoot", "caption"):
        at = stack.top(name)
        if at <= max(stack.top("table") if name != "table" else -1, stack.top("template")):
            at = -1
    else:
        at = stack.in_scope(name)
    if at >= 0:
        stack.pop_to(at, True)
    else:
        stack.note(1)                                      # an end tag with nothing to close: </p> makes <p></p>


def html_depth(html: str, stop: int | None = None) -> int:
    """An upper bound of how deep an HTML parser's stack of open elements grows on this body (see
    above), measured in one pass that costs time in proportion to the body's length; with `stop`,
    the pass ends as soon as the bound is past it."""
    stack = _Stack()
    pos, n = 0, len(html)
    search = _TOKEN.search
    while pos < n:
        if stop is not None and stack.deepest > stop:
            break
        m = search(html, pos)
        if m is None:
            break
        comment, slash, name = m.group(1, 2, 3)
        if comment:
            start = m.end()
            if html.startswith(">", start) or html.startswith("->", start):
                pos = html.find(">", start) + 1
                continue
            ends = [i for i in (html.find("-->", start), html.find("--!>", start)) if i >= 0]
            if not ends:
                break
            pos = html.find(">", min(ends)) + 1
            continue
        if name is None:                                   # <!DOCTYPE>, <![CDATA[…]]>, <?…>, </…: up to ">"
            foreign = stack.top("svg") >= 0 or stack.top("math") >= 0
            if foreign and html.startswith("<![CDATA[", m.start()):
                end = html.find("]]>", m.end())
                pos = n if end < 0 else end + 3
            else:
                end = html.find(">", m.end())
                pos = n if end < 0 else end + 1
            continue
        tail = _TAIL.match(html, m.end())
        if tail is None:                                   # a tag the text ends inside: dropped
            break
        pos = tail.end()
        name = name.lower()
        if slash:
            _end(stack, name)
            continue
        foreign = stack.top("svg") >= 0 or stack.top("math") >= 0
        if name == "plaintext":
            stack.push(name)
            break
        _start(stack, name, html[m.end():tail.start(1)], bool(tail.group(1)), foreign)
        if name in _TEXT_ONLY and not foreign:
            close = _CLOSE_TEXT.get(name)
            if close is None:
                close = _CLOSE_TEXT[name] = re.compile(f"</{name}(?=[\\t\\n\\f\\r />])", re.I)
            end = close.search(html, pos)
            if end is None:
                break
            stack.pop_to(stack.top(name), True)
            pos = end.start()
    return stack.deepest


# Cheap bounds first: most bodies are shown to be shallow without the scan above. An element adds one
# level at most for each "<" that is not "</"; an innermost element with only text inside (<b>x</b>)
# adds one level above whatever holds it, so cutting every such pair away, pass by pass, leaves a
# text whose "<" still bound the rest. Void elements add one level for an instant.
_VOID_TAG = re.compile(f"<(?:{'|'.join(sorted(_VOID))})(?=[\\t\\n\\f\\r />])[^<>]*+>")   # as written (fast)
_INNERMOST = re.compile(r"<([A-Za-z][^\t\n\f\r />]*+)(?:[\t\n\f\r /][^<>]*+)?>[^<]*+</\1\s*+>")
_PASSES = 8


def html_depth_over(html: str, limit: int) -> int:
    """0 when the body surely nests no deeper than `limit`; otherwise how deep it was found to nest
    by the time the measure passed the limit (so an over-deep body costs only its first part)."""
    starts = html.count("<")
    if starts <= limit or starts - html.count("</") <= limit:
        return 0
    text, voids = _VOID_TAG.subn("", html)
    bound = 1 if voids else 0
    for _ in range(_PASSES):
        text, cut = _INNERMOST.subn("", text)
        if not cut:
            break
        bound += 1
        if bound + text.count("<") - text.count("</") <= limit:
            return 0
    if bound + text.count("<") - text.count("</") <= limit:
        return 0
    depth = html_depth(html, limit)
    return depth if depth > limit else 0
