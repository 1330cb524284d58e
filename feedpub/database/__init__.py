"""Records from a database: the [source] table of feedpub.toml.

Importing this package is cheap (the standard library only).
"""
from __future__ import annotations

from .config import RECORD_FIELDS, SourceConfig, parse_source, redact_url

__all__ = ["RECORD_FIELDS", "SourceConfig", "parse_source", "redact_url"]
