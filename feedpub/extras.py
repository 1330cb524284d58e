"""The one place a message names an install command: for an optional extra, one that works here.

feedpub is installed from its checkout or a wheel (pipx, uv, a virtualenv), not from a package index,
so asking pip for feedpub with an extra by name would find nothing. What always works is to add the extra's
own requirements, as this installation's metadata lists them, to the environment feedpub runs in:
`<this python> -m pip install 'SQLAlchemy>=…' …` (pipx's environments have pip), or `pipx inject`.
"""
from __future__ import annotations

import shlex
import sys

__all__ = ["DIALECT_EXTRAS", "extra_requirements", "install_hint"]

DIALECT_EXTRAS = {"postgresql": "postgresql", "mysql": "mysql", "mariadb": "mysql", "sqlite": "sqlite"}


def extra_requirements(extra: str) -> list[str]:
    """The requirements an extra adds, from the installed distribution's metadata (its pyproject.toml)."""
    from importlib.metadata import PackageNotFoundError, requires
    try:
        declared = requires("feedpub") or []
    except PackageNotFoundError:
        return []
    found = []
    for requirement in declared:
        spec, _, marker = requirement.partition(";")
        if marker.replace(" ", "").replace("'", '"') == f'extra=="{extra}"':
            found.append(spec.strip().replace(" ", ""))
    return found


def install_hint(extra: str, missing: str | None = None) -> str:
    """How to add an extra to this installation, as one command (and pipx's, when that is what installed
    it); missing: the module an import could not find, installed by name when the extra does not bring it
    (a driver the URL names, such as pg8000)."""
    requirements = extra_requirements(extra) or [f"feedpub[{extra}]"]
    top = (missing or "").split(".")[0].lower()
    if top and not any(r.lower().startswith(top) for r in requirements):
        requirements = [top]
    words = " ".join(shlex.quote(r) for r in requirements)
    hint = f"{shlex.quote(sys.executable)} -m pip install {words}"
    if "/pipx/" in sys.executable or "/.local/share/pipx/" in sys.executable:
        hint += f" (or: pipx inject feedpub {words})"
    return hint
