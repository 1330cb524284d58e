"""The rules the package's structure holds to, checked on the source with ast.

- No module is longer than MAX_LINES: a module that grows past it has taken
  on a second job, and the split is cheaper before the next feature than after.
- No module imports or reaches into another module's private names (``_x``):
  what a module shares is public API of that module, as in httpx. A private
  *module* (``_impl.py``) is private to its package: the modules inside that
  package may import it, nothing outside may. Nor does a module reach into the
  private attributes of another module's objects: ``obj._x`` is allowed only
  on ``self``/``cls`` or for a name the module itself defines (its own
  classes' attributes); a few names that libraries made public with an
  underscore (``Row._mapping``, ``namedtuple._replace``) are allowed too.
- Only fsops.py changes files and folders (unlink, rename, rmdir, mkdir, ...):
  every change inside OUT goes through its folder descriptors, so no link can
  redirect it. What other modules change outside OUT is an explicit allow-list.
- The output's own names (the private folder, the lock, temporary names) are
  spelt in layout.py alone: no other string of the package holds ".feedpub".

Each check is a function of a package directory, so it can be run on a small
synthetic package that breaks it: a check that cannot fail proves nothing.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import feedpub

PACKAGE = Path(feedpub.__file__).parent
MAX_LINES = 500
PUBLIC_UNDERSCORE = frozenset({"_mapping", "_replace", "_asdict", "_fields", "_make", "_field_defaults"})


# --- the checks --------------------------------------------------------------


def modules(root: Path) -> list[Path]:
    """Every Python module of the package at root, its sub-packages included."""
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def long_modules(root: Path, limit: int = MAX_LINES) -> list[str]:
    """'path: N lines' for each module of the package longer than limit lines."""
    found = []
    for path in modules(root):
        lines = len(path.read_bytes().splitlines())
        if lines > limit:
            found.append(f"{path.relative_to(root.parent)}: {lines} lines")
    return found


def private_reaches(root: Path) -> list[str]:
    """'path:line: what' for each import of, or attribute access to, another module's private name."""
    found = []
    for path in modules(root):
        found += _Reaches(root, path).found
    return found


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


class _Reaches(ast.NodeVisitor):
    """The private-name reaches of one module of the package at root."""

    def __init__(self, root: Path, path: Path):
        self.root = root
        self.path = path
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        self.is_package = parts[-1] == "__init__"
        self.name = ".".join(parts[:-1] if self.is_package else parts)
        self.aliases: dict[str, str] = {}       # local name -> the package module it is bound to
        self.foreign: set[str] = set()          # local names bound by imports from outside the package
        self.own: set[str] = set()              # names this module defines: functions, classes, attributes
        self.found: list[str] = []
        tree = ast.parse(path.read_bytes(), filename=str(path))
        for node in ast.walk(tree):             # bindings first, wherever they are, then the reaches
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                self._bind(node)
            self._define(node)
        self.visit(tree)

    # --- names -----------------------------------------------------------------------------

    def _is_module(self, dotted: str) -> bool:
        """True when dotted names a module or package of the package at root."""
        base = self.root.parent.joinpath(*dotted.split("."))
        return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()

    def _ours(self, dotted: str) -> bool:
        return dotted == self.root.name or dotted.startswith(self.root.name + ".")

    def _absolute(self, node: ast.ImportFrom) -> str:
        """The module a 'from ... import' reads from, relative levels resolved."""
        if not node.level:
            return node.module or ""
        package = self.name.split(".")
        if not self.is_package:
            package = package[:-1]
        package = package[: len(package) - (node.level - 1)]
        return ".".join(package + ([node.module] if node.module else []))

    def _bind(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if self._ours(alias.name):
                    self.aliases[alias.asname or alias.name.split(".")[0]] = (
                        alias.name if alias.asname else alias.name.split(".")[0])
                else:
                    self.foreign.add(alias.asname or alias.name.split(".")[0])
            return
        source = self._absolute(node)
        if self._ours(source):
            for alias in node.names:
                if self._is_module(f"{source}.{alias.name}"):
                    self.aliases[alias.asname or alias.name] = f"{source}.{alias.name}"
        else:
            self.foreign.update(alias.asname or alias.name for alias in node.names)

    def _define(self, node: ast.AST) -> None:
        """Note a name this module defines: a function, a class, an assigned name or attribute, a slot."""
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.own.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            self.own.add(node.id)
        elif (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and isinstance(node.value, ast.Name)
              and node.value.id in ("self", "cls")):
            self.own.add(node.attr)
        elif isinstance(node, ast.arg):
            self.own.add(node.arg)
        elif (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__slots__" for t in node.targets)
              and isinstance(node.value, (ast.Tuple, ast.List))):
            self.own.update(e.value for e in node.value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str))

    def _allowed(self, dotted: str) -> bool:
        """True when every private part of the module path dotted is inside a package this module is in."""
        parts = dotted.split(".")
        for i, part in enumerate(parts):
            if _is_private(part) and not (self.name + ".").startswith(".".join(parts[:i]) + "."):
                return False
        return True

    def _report(self, node: ast.AST, what: str) -> None:
        self.found.append(f"{self.path.relative_to(self.root.parent)}:{node.lineno}: {what}")

    def _reach(self, node: ast.AST, module: str, name: str, what: str) -> None:
        """module.name used here: a private name of another module, unless it is a module this one may use."""
        if not _is_private(name) or module == self.name:
            return
        if self._is_module(f"{module}.{name}") and self._allowed(f"{module}.{name}"):
            return
        self._report(node, what)

    def _resolve(self, node: ast.expr) -> str | None:
        """The package module an expression such as alias or alias.sub names, or None."""
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id)
        if isinstance(node, ast.Attribute):
            parent = self._resolve(node.value)
            if parent is not None and self._is_module(f"{parent}.{node.attr}"):
                return f"{parent}.{node.attr}"
        return None

    # --- reaches ---------------------------------------------------------------------------

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if self._ours(alias.name) and not self._allowed(alias.name):
                self._report(node, f"import {alias.name}")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        source = self._absolute(node)
        if not self._ours(source):
            return
        if not self._allowed(source):
            self._report(node, f"from {source} import ...")
        for alias in node.names:
            self._reach(node, source, alias.name, f"from {source} import {alias.name}")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        module = self._resolve(node.value)
        if module is not None:
            self._reach(node, module, node.attr, f"{module}.{node.attr}")
        elif self._reaches_object(node):
            self._report(node, f"{ast.unparse(node.value)}.{node.attr}")
        self.generic_visit(node)

    def _reaches_object(self, node: ast.Attribute) -> bool:
        """obj._name where obj is an object of another module: not self or cls, not a module from
        outside the package, and _name not one this module defines or a library made public."""
        if not _is_private(node.attr) or node.attr in self.own or node.attr in PUBLIC_UNDERSCORE:
            return False
        if isinstance(node.value, ast.Name) and (node.value.id in ("self", "cls") or node.value.id in self.foreign):
            return False
        return True

    def visit_Call(self, node: ast.Call) -> None:
        if (isinstance(node.func, ast.Name) and node.func.id in ("getattr", "setattr", "hasattr", "delattr")
                and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)):
            module = self._resolve(node.args[0])
            if module is not None:
                self._reach(node, module, node.args[1].value, f'{node.func.id}({module}, "{node.args[1].value}")')
        self.generic_visit(node)


_FS_MODULE_CALLS = {"os": {"unlink", "remove", "replace", "rename", "renames", "rmdir", "removedirs", "mkdir",
                           "makedirs", "link", "symlink", "truncate"},
                    "shutil": {"rmtree", "move", "copy", "copy2", "copyfile", "copytree"}}
# Methods only a pathlib.Path has (str.replace and Tree's methods share no name with these).
_FS_PATH_METHODS = {"unlink", "rmdir", "mkdir", "touch", "write_bytes", "write_text", "symlink_to", "hardlink_to",
                    "rename", "chmod"}
FS_HOME = "fsops.py"
# Changes outside OUT that other modules make, each with its reason.
FS_ALLOWED = {
    ("ingest/stage.py", "os.unlink"): "check's throwaway index, in the system's temporary folder",
    ("cache.py", "os.unlink"): "a run's stand-in cache, in the system's temporary folder",
    ("runreport.py", "os.replace"): "the --report/--metrics file, where the operator asked (never inside OUT)",
    ("runreport.py", "os.unlink"): "that file's temporary twin, left by a killed run",
    ("scaffold.py", ".mkdir()"): "`feedpub init` creates a new site's folders, not an OUT",
}


def file_changes(root: Path) -> set[tuple[str, str]]:
    """(module, call) for each call that creates, renames or removes files or folders, outside FS_HOME."""
    found = set()
    for path in modules(root):
        rel = path.relative_to(root).as_posix()
        if rel == FS_HOME:
            continue
        for node in ast.walk(ast.parse(path.read_bytes())):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            name, owner = node.func.attr, node.func.value
            if isinstance(owner, ast.Name) and name in _FS_MODULE_CALLS.get(owner.id, ()):
                found.add((rel, f"{owner.id}.{name}"))
            elif name in _FS_PATH_METHODS and not (isinstance(owner, ast.Name) and owner.id in _FS_MODULE_CALLS):
                found.add((rel, f".{name}()"))
    return found


def literals_holding(root: Path, text: str, home: str) -> list[str]:
    """'module:line' for each string of the package (docstrings aside) that holds text, outside home."""
    found = []
    for path in modules(root):
        rel = path.relative_to(root).as_posix()
        if rel == home:
            continue
        tree = ast.parse(path.read_bytes())
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                      and node.body and isinstance(node.body[0], ast.Expr)
                      and isinstance(node.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and text in node.value
                    and id(node) not in docstrings):
                found.append(f"{rel}:{node.lineno}")
    return found


def unlisted_modules(root: Path) -> list[str]:
    """'package: name.py' for each module a package's docstring leaves out of the module list it
    gives (indented lines that start with a module's file name), and for each it lists in vain."""
    found = []
    for init in sorted(root.rglob("__init__.py")):
        if "__pycache__" in init.parts:
            continue
        doc = ast.get_docstring(ast.parse(init.read_bytes()), clean=False) or ""
        listed = re.findall(r"^[ \t]+(\w+\.py)\b", doc, re.M)
        if not listed:
            continue
        present = {p.name for p in init.parent.glob("*.py") if p.name != "__init__.py"}
        package = init.parent.relative_to(root.parent).as_posix()
        found += [f"{package}: {name} not listed" for name in sorted(present - set(listed))]
        found += [f"{package}: {name} listed but missing" for name in sorted(set(listed) - present)]
    return found


# --- the package holds to them -----------------------------------------------


def test_no_module_is_longer_than_500_lines():
    assert long_modules(PACKAGE) == []


def test_no_module_imports_or_reaches_into_another_modules_private_names():
    assert private_reaches(PACKAGE) == []


def test_a_package_that_lists_its_modules_lists_them_all():
    assert unlisted_modules(PACKAGE) == []


# --- each check can fail -----------------------------------------------------


def _package(root: Path, files: dict[str, str]) -> Path:
    """A package named pkg under root with the given modules (relative path -> source)."""
    for name, source in files.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return root / "pkg"


def test_the_length_check_finds_a_module_over_the_limit(tmp_path):
    pkg = _package(tmp_path, {
        "__init__.py": "",
        "short.py": "x = 1\n" * MAX_LINES,
        "long.py": "x = 1\n" * (MAX_LINES + 1),
        "sub/__init__.py": "",
        "sub/deep.py": "x = 1\n" * MAX_LINES + "x = 1",      # the last line without its newline counts too
    })
    assert long_modules(pkg) == [f"pkg/long.py: {MAX_LINES + 1} lines", f"pkg/sub/deep.py: {MAX_LINES + 1} lines"]


def test_the_private_name_check_finds_every_kind_of_reach(tmp_path):
    pkg = _package(tmp_path, {
        "__init__.py": "from .a import public\n",
        "a.py": "_secret = 1\npublic = 2\n_x = [_secret]\n",
        "_impl.py": "thing = 1\n",
        "sub/__init__.py": "",
        "sub/_inner.py": "thing = 1\n",
        "sub/b.py": "from . import _inner\nfrom ._inner import thing\n",                 # its own package's: fine
        "relative.py": "from .a import public, _secret\n",
        "absolute.py": "from pkg.a import _secret\n",
        "parent.py": "import os\nfrom .sub import _inner\n",
        "sub/up.py": "from ..a import _secret as s\n",
        "attr.py": "from . import a\nprint(a._secret, a.public, a.__name__)\n",
        "dotted.py": "import pkg.a\nprint(pkg.a._secret)\n",
        "aliased.py": "import pkg.a as m\nfrom .sub import b\nprint(m._secret, b._inner)\n",
        "dynamic.py": "from . import a\nprint(getattr(a, '_secret'), getattr(a, 'public'))\n",
        "inner.py": "from .sub._inner import thing\nimport pkg.sub._inner\n",
        "fine.py": ("from __future__ import annotations\nimport os\nfrom . import _impl\nfrom .a import public\n"
                    "class C:\n    def f(self):\n        return self._x, os._exit, public\n"),
    })
    assert sorted(private_reaches(pkg)) == sorted([
        "pkg/relative.py:1: from pkg.a import _secret",
        "pkg/absolute.py:1: from pkg.a import _secret",
        "pkg/parent.py:2: from pkg.sub import _inner",
        "pkg/sub/up.py:1: from pkg.a import _secret",
        "pkg/attr.py:2: pkg.a._secret",
        "pkg/dotted.py:2: pkg.a._secret",
        "pkg/aliased.py:3: pkg.a._secret",
        "pkg/aliased.py:3: pkg.sub.b._inner",
        'pkg/dynamic.py:2: getattr(pkg.a, "_secret")',
        "pkg/inner.py:1: from pkg.sub._inner import ...",
        "pkg/inner.py:2: import pkg.sub._inner",
    ])


def test_only_fsops_changes_files_and_folders():
    assert sorted(file_changes(PACKAGE) - set(FS_ALLOWED)) == []


def test_the_allow_list_of_changes_outside_out_holds_no_stale_entry():
    assert sorted(set(FS_ALLOWED) - file_changes(PACKAGE)) == []


def test_the_private_folder_is_named_in_layout_alone():
    assert literals_holding(PACKAGE, ".feedpub", "layout.py") == []


def test_the_file_change_check_finds_every_kind_of_call(tmp_path):
    pkg = _package(tmp_path, {
        "__init__.py": "",
        "fsops.py": "import os\nos.unlink('x')\n",                             # the home: fine
        "a.py": "import os, shutil\nos.unlink('x'); os.replace('a', 'b'); shutil.rmtree('d')\n",
        "b.py": "from pathlib import Path\nPath('x').mkdir(); Path('y').write_bytes(b''); p.rename('z')\n",
        "c.py": "s = 'a'.replace('a', 'b'); tree.move('a', 'b'); os.path.join('a')\n",   # no file changes
    })
    assert sorted(file_changes(pkg)) == [("a.py", "os.replace"), ("a.py", "os.unlink"), ("a.py", "shutil.rmtree"),
                                         ("b.py", ".mkdir()"), ("b.py", ".rename()"), ("b.py", ".write_bytes()")]


def test_the_literal_check_finds_strings_but_not_docstrings(tmp_path):
    pkg = _package(tmp_path, {
        "__init__.py": "",
        "layout.py": "PRIVATE = '.feedpub'\n",
        "a.py": '"""Mentions .feedpub in prose."""\nNAME = ".feedpub/x"\nF = f"{NAME}/.feedpub.lock"\n',
        "b.py": 'def f():\n    """.feedpub here too"""\n    return 1\n',
    })
    assert literals_holding(pkg, ".feedpub", "layout.py") == ["a.py:2", "a.py:3"]


def test_the_module_list_check_finds_a_module_left_out_and_one_gone(tmp_path):
    pkg = _package(tmp_path, {
        "__init__.py": "",
        "listed/__init__.py": '"""Parts.\n\n    a.py  one\n    gone.py  another\n"""\n',
        "listed/a.py": "",
        "listed/b.py": "",
        "quiet/__init__.py": '"""No list here."""\n',
        "quiet/c.py": "",
    })
    assert unlisted_modules(pkg) == ["pkg/listed: b.py not listed", "pkg/listed: gone.py listed but missing"]


def test_the_private_name_check_finds_a_reach_into_another_modules_object(tmp_path):
    pkg = _package(tmp_path, {
        "__init__.py": "",
        "a.py": "class Source:\n    def __init__(self):\n        self._db = 1\n\n    def _rows(self):\n        return self._db\n",
        "b.py": "def use(src):\n    src._cache = 2\n    return src._db, src._rows(), src.public\n",
        "c.py": ("import os\n\n\nclass Own:\n    __slots__ = ('_slot',)\n\n    def _helper(self):\n        return 1\n\n\n"
                 "def fine(other, row, point):\n"
                 "    return other._helper(), other._slot, os._exit, row._mapping, point._replace(x=1)\n"),
    })
    assert sorted(private_reaches(pkg)) == ["pkg/b.py:2: src._cache", "pkg/b.py:3: src._db", "pkg/b.py:3: src._rows"]
