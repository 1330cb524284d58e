"""Score `feedpub validate --spec-only` against the W3C Feed Validation Service's own test cases.

    python benchmarks/score_validate.py [-v] [--require] [--dir PREFIX ...]

The test cases and the validator's code come from the W3C feedvalidator
(its src/ and testcases/), never part of this repository: FEEDVALIDATOR_DIR,
by default ../shared/third_party/feedvalidator beside the repository. Each
case says in a comment which message the W3C validator must give, e.g.
``<!-- Description: ... Expect: InvalidRFC2822Date -->``. The script runs the
W3C validator itself (with FEEDVALIDATOR_PYTHON, a Python with the libraries
it imports, html5lib and rdflib: by default .ci-w3c/bin/python, the virtualenv
.ci/run makes, else this Python) to learn which cases it finds clean, then
runs feedpub's checker with feedpub's own rules set aside (spec_only) on every
case in scope and prints, per directory, invalid cases caught / missed and
clean cases passed / wrongly flagged.

Labels:
- invalid: the case expects a message of the W3C's Error class (not negated).
  When the W3C validator finds other errors in it too (many atom/must cases
  are fragments: an entry with nothing but the id under test), a finding only
  counts if it names the element or attribute the expected message is about
  (or concerns the whole file: not well-formed, not identifiable), so a case
  is not "caught" merely for a missing <title>;
- clean: the W3C validator reports no error at all;
- incidental (not scored): errors the case is not about, such as the bare
  fragments many atom/must cases are (an entry with nothing but an id).

Scope: RSS 2.0 and Atom 1.0 core plus the extensions feedpub writes.
- Included directories: atom/ (RFC 4287 by section, must, should), rss20/
  (the RSS 2.0 specification by element), rss/ (general RSS rules), xml/
  (encoding and well-formedness), ext/media/ (Media RSS, which feedpub writes).
- Left out: rss11/ and RSS 1.0 (RDF) or 0.9x cases elsewhere (other formats);
  ext/ other than media (iTunes, GeoRSS, threading, FeedBurner, FeedSync, ...:
  extensions feedpub does not write); gbase/, kml/, opensearch/, opml/
  (other vocabularies).
- Invalid cases whose file uses extension elements feedpub does not write
  (sy:, geo:, admin:, dc: other than dc:creator, media: other than content and
  description, ...) are left out too: the error they test is in that
  extension. Clean cases stay in whatever they use, since a checker must never
  flag a valid extension.

Targets: at least 95 % of invalid cases caught, at most 2 % of clean cases
flagged. The script exits 1 if a target is missed, 0 otherwise. When the test
cases or the W3C validator are not available it prints "skipped: " and why and
exits 0, or with --require exits 2; so does --require when fewer cases than a
full set of test cases holds come into scope. tests/test_validate_w3c.py runs
it (with --require when FEEDPUB_REQUIRE_W3C=1, as CI sets it).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from lxml import etree

from feedpub.validate import validate_bytes

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIR = ROOT.parent / "shared" / "third_party" / "feedvalidator"
DEFAULT_PYTHON = ROOT / ".ci-w3c" / "bin" / "python"
INCLUDED = ("atom/", "rss20/", "rss/", "xml/", "ext/media/")
TARGET_CAUGHT, TARGET_FLAGGED = 0.95, 0.02
MIN_CASES = 400         # invalid and clean cases each: fewer means the test cases are not all there

ATOM_NS = "http://www.w3.org/2005/Atom"
XHTML_NS = "http://www.w3.org/1999/xhtml"
WRITTEN = {("http://purl.org/rss/1.0/modules/content/", "encoded"), ("http://purl.org/dc/elements/1.1/", "creator"),
           ("http://search.yahoo.com/mrss/", "content"), ("http://search.yahoo.com/mrss/", "description")}
_EXPECT = re.compile(r"<!--\s*Description:\s*(.*?)\s*Expect:\s*(!?)(\w*)(?:{(.*?)})?\s*-->", re.S)

# Runs under FEEDVALIDATOR_PYTHON: for each file, the W3C's Error events and whether the expected
# message is an Error. Calls the validator the way its web service does; contains none of its code.
_DRIVER = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
import html5lib, rdflib         # imported lazily by the validator: missing, every case would look broken
import feedvalidator
from feedvalidator import compatibility
from feedvalidator.logging import Error
out = {}
for line in sys.stdin:
    path, rel, expected = line.rstrip("\n").split("\t")
    cls = getattr(feedvalidator, expected, None)
    is_error = isinstance(cls, type) and issubclass(cls, Error)
    with open(path, "rb") as f:
        data = f.read()
    try:
        events = feedvalidator.validateString(data, fallback="US-ASCII",
                                              base="http://www.feedvalidator.org/testcases/" + rel)["loggedEvents"]
        events = [e for e in compatibility.AA(events) if isinstance(e, Error)]
        errors = sorted({type(e).__name__ for e in events})
        other = sorted({type(e).__name__ for e in events if not (is_error and isinstance(e, cls))})
        names = sorted({str(e.params.get(k)) for e in events if is_error and isinstance(e, cls)
                        for k in ("element", "attr") if e.params.get(k)})
    except Exception as exc:
        errors = other = ["exception:" + type(exc).__name__]
        names = []
    out[rel] = {"errors": errors, "other": other, "names": names, "expect_is_error": is_error}
json.dump(out, sys.stdout)
"""


def _w3c_verdicts(cases: list[tuple[Path, str, str]], source: Path) -> dict | str:
    """The W3C validator's verdict on every case, or why it could not run."""
    python = os.environ.get("FEEDVALIDATOR_PYTHON") or (str(DEFAULT_PYTHON) if DEFAULT_PYTHON.exists()
                                                       else sys.executable)
    lines = "".join(f"{path}\t{rel}\t{expected}\n" for path, rel, expected in cases)
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")    # leave the validator's folder as it was
    proc = subprocess.run([python, "-c", _DRIVER, str(source)], input=lines, capture_output=True, text=True,
                          env=env)
    if proc.returncode != 0:
        return (f"the W3C validator could not run with {python} (set FEEDVALIDATOR_PYTHON to a Python with "
                f"html5lib and rdflib): {proc.stderr.strip().splitlines()[-1] if proc.stderr else ''}")
    return json.loads(proc.stdout)


def _unavailable(why: str, required: bool) -> int:
    print(("error: " if required else "skipped: ") + why)
    return 2 if required else 0


def _format_of(data: bytes) -> tuple[str, etree._Element | None]:
    """("rss1" | "rss09" | "feed", root) for a test case; root is None when it does not parse."""
    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    except (etree.XMLSyntaxError, ValueError, LookupError):
        return "feed", None
    local = etree.QName(root).localname
    if local.lower() == "rdf":
        return "rss1", root
    if local == "rss" and root.get("version") not in (None, "2.0"):
        return "rss09", root
    return "feed", root


def _uses_other_extensions(root: etree._Element | None) -> bool:
    """True when the file holds an element of an extension feedpub does not write."""
    if root is None:
        return False
    own = etree.QName(root).namespace or ""
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        qn = etree.QName(el)
        ns = qn.namespace or ""
        if ns not in ("", ATOM_NS, XHTML_NS, own) and (ns, qn.localname) not in WRITTEN:
            return True
    return False


_SCOPED = re.compile(r"(channel|feed|item \d+|entry \d+)\b")   # a finding inside the feed, not about the file


def _names_any(message: str, names: list[str]) -> bool:
    """True when a finding's message names one of these elements or attributes (prefix:local or local)."""
    for name in names:
        local = name.split(":")[-1]
        if re.search(rf"<{re.escape(name)}[ >]|<{re.escape(local)}[ >]|\b{re.escape(local)}=|"
                     rf"\b{re.escape(local)} \"|\"{re.escape(local)}\"|<{re.escape(local)} ", message):
            return True
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="list every miss and false flag")
    parser.add_argument("--dir", action="append", default=[], help="only directories starting with this")
    parser.add_argument("--require", action="store_true",
                        help="exit 2 instead of skipping when the test cases or the W3C validator are missing")
    args = parser.parse_args()
    source = Path(os.environ.get("FEEDVALIDATOR_DIR") or DEFAULT_DIR)
    testcases = source / "testcases"
    if not testcases.is_dir():
        return _unavailable(f"no W3C feedvalidator test cases at {testcases} (set FEEDVALIDATOR_DIR to a folder "
                            "holding the w3c/feedvalidator repository's src/ and testcases/)", args.require)
    cases = []
    for path in sorted(testcases.rglob("*.xml")):
        rel = path.relative_to(testcases).as_posix()
        if not rel.startswith(INCLUDED) or (args.dir and not rel.startswith(tuple(args.dir))):
            continue
        m = _EXPECT.search(path.read_bytes().decode("utf-8", "replace"))
        if m:
            cases.append((path, rel, m.group(3) if not m.group(2) else "!"))
    verdicts = _w3c_verdicts(cases, source / "src")
    if isinstance(verdicts, str):
        return _unavailable(verdicts, args.require)
    table: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    left_out: dict[str, int] = defaultdict(int)
    details = []
    for path, rel, _ in cases:
        data = path.read_bytes()
        fmt, root = _format_of(data)
        verdict = verdicts[rel]
        if fmt != "feed":
            left_out["RSS 1.0 (RDF)" if fmt == "rss1" else "RSS 0.9x"] += 1
            continue
        if any(e.startswith("exception:") for e in verdict["errors"]):
            left_out["the W3C validator failed on"] += 1
            continue
        if verdict["expect_is_error"]:
            if _uses_other_extensions(root):
                left_out["invalid, in an extension feedpub does not write"] += 1
                continue
            label = "invalid"
        elif not verdict["errors"]:
            label = "clean"
        else:
            left_out["incidental W3C errors (not what the case tests)"] += 1
            continue
        result = validate_bytes(data, rel, spec_only=True)
        flagged = bool(result.errors)
        if label == "invalid" and verdict["other"]:
            flagged = any(_names_any(f.message, verdict["names"]) or not _SCOPED.match(f.message)
                          for f in result.errors)
        row = table[rel.rsplit("/", 1)[0]]
        if label == "invalid":
            row[0 if flagged else 1] += 1
            if not flagged:
                details.append(f"MISSED  {rel}  (W3C: {', '.join(verdict['errors'])})")
        else:
            row[3 if flagged else 2] += 1
            if flagged:
                details.append(f"FLAGGED {rel}: {result.errors[0]}")
    width = max(len(d) for d in table) if table else 10
    print(f"{'directory':<{width}}  invalid: caught missed   clean: passed flagged")
    for name in sorted(table):
        c, m, p, f = table[name]
        print(f"{name:<{width}}  {c:>15} {m:>6}  {p:>14} {f:>7}")
    caught, missed, passed, flagged = (sum(row[i] for row in table.values()) for i in range(4))
    print(f"{'total':<{width}}  {caught:>15} {missed:>6}  {passed:>14} {flagged:>7}")
    rate_caught = caught / max(1, caught + missed)
    rate_flagged = flagged / max(1, passed + flagged)
    print(f"\ninvalid caught: {caught} of {caught + missed} = {rate_caught:.1%} (target >= {TARGET_CAUGHT:.0%})")
    print(f"clean flagged:  {flagged} of {passed + flagged} = {rate_flagged:.1%} (target <= {TARGET_FLAGGED:.0%})")
    print("left out: " + "; ".join(f"{n} {why}" for why, n in sorted(left_out.items())))
    if args.verbose:
        print("\n" + "\n".join(details))
    if args.require and not args.dir and min(caught + missed, passed + flagged) < MIN_CASES:
        return _unavailable(f"only {caught + missed} invalid and {passed + flagged} clean cases in scope (expected "
                            f"at least {MIN_CASES} of each: are the test cases at {testcases} complete?)", True)
    return 0 if rate_caught >= TARGET_CAUGHT and rate_flagged <= TARGET_FLAGGED else 1


if __name__ == "__main__":
    sys.exit(main())
