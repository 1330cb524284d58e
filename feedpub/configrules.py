"""Rules every table of feedpub.toml follows, shared by config.py and sourceconfig.py."""
from __future__ import annotations

from typing import Mapping

from .errors import ConfigError

__all__ = ["CONFIG_NAME", "reject_unknown"]

CONFIG_NAME = "feedpub.toml"


def reject_unknown(table: Mapping, name: str, known: tuple[str, ...]) -> None:
    """ConfigError for the first key of [name] feedpub does not know, with the nearest one it does
    (a misspelt key would otherwise do nothing at all)."""
    import difflib
    for key in table:
        if key not in known:
            near = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            hint = f"did you mean {near[0]}?" if near else "expected one of: " + ", ".join(known)
            where = f"{CONFIG_NAME}: [{name}] {key}" if name else f"{CONFIG_NAME}: {key}"
            raise ConfigError(f"{where}: unknown key ({hint})")
