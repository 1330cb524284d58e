"""The import graph runs one way, and the README's module table names every module.

    record files -> ingest -> models -> render -> publish -> the run -> the command

with the configuration, the typed model, the errors and the small rule helpers
below everything. Each module is given its floor here; a module may import only
from its own floor or below, and nothing may import in a circle.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import feedpub

PACKAGE = Path(feedpub.__file__).parent
README = PACKAGE.parent / "README.md"

FLOORS: dict[str, int] = {
    # 0: the small rule helpers and the typed model, below everything
    "errors": 0, "text": 0, "urls": 0, "layout": 0, "model": 0, "slugs": 0, "version": 0, "configrules": 0,
    "limits": 0, "children": 0, "progress": 0, "extras": 0, "opener": 0, "fsops": 0, "runstate": 0,
    # 1: reading dates and the configuration; the cache file
    "dates": 1, "htmlpolicy": 1, "config": 1, "sourceconfig": 1, "publishconfig": 1, "cache": 1,
    # 2: the record rules, the rule of which records a feed carries, and what a feed is made of
    "records": 2, "selection": 2, "feed_digests": 2,
    # 3: ingest: record files -> the index -> chosen Articles
    "ingest": 3, "database": 3,
    # 4: models: Articles -> Feed
    "sanitize": 4, "feeds": 4,
    # 5: render: Feed -> bytes
    "render_xml": 5, "feedgen_traps": 5, "render_json": 5, "pages": 5, "render": 5, "forked": 5,
    # 6: publish: bytes -> OUT
    "manifest": 6, "publish": 6, "websub": 6, "s3": 6, "purge": 6,
    # 7: the run
    "pipeline": 7,
    # 8: around the run: the command, the preview server, the output checker
    "validate": 8, "watch": 8, "serve": 8, "cli": 8, "__main__": 8, "__init__": 8,
    "outcome": 8, "console": 8, "scaffold": 8, "serveguard": 8, "runreport": 8, "metrics": 8, "cli_progress": 8,
    "rebuild": 8, "inotify": 8, "sdnotify": 8,
}


def unit(path: Path) -> str:
    """The name a module's floor is known by: its top-level module or package under feedpub/."""
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def imports(path: Path) -> set[str]:
    """The feedpub units a module imports (relative or absolute), itself excluded."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rel = path.relative_to(PACKAGE.parent).with_suffix("").parts
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(rel[:len(rel) - node.level])
                target = base + (node.module.split(".") if node.module else [])
                if not node.module:
                    target = [[*base, alias.name] for alias in node.names]
                else:
                    target = [target]
            elif node.module and node.module.split(".")[0] == "feedpub":
                target = [node.module.split(".")]
            else:
                continue
            for parts in target:
                if len(parts) > 1 and parts[0] == "feedpub":
                    found.add(parts[1] if _is_module(parts[1]) else "__init__")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "feedpub" and len(parts) > 1:
                    found.add(parts[1])
    return found - {unit(path)}


def _is_module(name: str) -> bool:
    return (PACKAGE / f"{name}.py").is_file() or (PACKAGE / name / "__init__.py").is_file()


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        name = unit(path)
        edges.setdefault(name, set()).update(imports(path))
    return edges


def test_every_module_has_a_floor():
    assert set(graph()) <= set(FLOORS), sorted(set(graph()) - set(FLOORS))


def test_imports_only_go_down_or_across_a_floor():
    upward = [f"{src} (floor {FLOORS[src]}) imports {dst} (floor {FLOORS[dst]})"
              for src, targets in graph().items() for dst in sorted(targets) if FLOORS[dst] > FLOORS[src]]
    assert upward == []


def test_nothing_imports_in_a_circle():
    edges = graph()
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(node: str, trail: list[str]) -> bool:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if nxt == "__init__":
                continue
            if state.get(nxt) == 1:
                cycle.extend(trail[trail.index(nxt):] + [node, nxt] if nxt in trail else [node, nxt])
                return True
            if state.get(nxt) is None and visit(nxt, trail + [node]):
                return True
        state[node] = 2
        return False

    assert not any(visit(n, []) for n in sorted(edges) if state.get(n) is None), cycle


def readme_table() -> str:
    text = README.read_text(encoding="utf-8")
    return text.split("## How it is built", 1)[1].split("\n## ", 1)[0]


def readme_modules() -> set[str]:
    """Every module the README's table names, as a path under feedpub/. In a row that begins with
    a package's module (`dates/__init__.py`), bare names are modules of that package."""
    named = set()
    for row in readme_table().splitlines():
        if not row.startswith("| `"):
            continue
        cell = row.split("|")[1:3]
        names = re.findall(r"`([a-z0-9_/]+\.py)`", "|".join(cell))
        prefix = next((n.rsplit("/", 1)[0] + "/" for n in names if "/" in n), "")
        named |= {n if "/" in n else prefix + n for n in names}
    return {n for n in named if not n.endswith("__init__.py")}


def test_the_readme_names_every_module():
    named = readme_modules()
    wanted = {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")
              if "__pycache__" not in p.parts and p.name not in ("__init__.py", "__main__.py")}
    assert sorted(wanted - named) == [], "modules missing from README's table"
    assert sorted(named - wanted) == [], "README's table names modules that do not exist"
