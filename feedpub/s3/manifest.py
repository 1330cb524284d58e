"""The manifest feedpub keeps in a bucket: which objects under the prefix it wrote, and what each holds.

PREFIX/.feedpub/manifest.json lists every object feedpub published there with the SHA-256 of its
bytes, the ETag the store gave it and the headers it was written with; an object whose bytes and
headers would not change is not written again. It also lists the keys feedpub has *claimed*: a key
it is about to write for the first time (announced before the object exists, so that a run cut off
after the upload still finds it listed) or one it is about to delete. Every object the manifest
lists or claims is feedpub's to overwrite or delete; no other object ever is.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from types import MappingProxyType
from typing import Mapping

from ..layout import MANIFEST, PRIVATE_DIR     # the manifest sits under the prefix where it sits in OUT

__all__ = ["FORMAT", "MANIFEST", "BucketManifest", "Entry", "decode", "encode"]

FORMAT = "feedpub-bucket-manifest"
VERSION = 1
_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True, slots=True)
class Entry:
    """One object feedpub published: its bytes' SHA-256, the ETag the store answered (what a listing
    shows as long as nobody else rewrote the object) and the headers it was written with."""

    sha256: str
    etag: str
    content_type: str
    cache_control: str


@dataclass(frozen=True, slots=True)
class BucketManifest:
    objects: Mapping[str, Entry] = field(default_factory=lambda: MappingProxyType({}))   # path under the prefix
    claimed: frozenset[str] = frozenset()        # keys being created or deleted by a run that may have been cut off
    origin: str = "manifest"                     # "manifest", "none" (no manifest yet) or "damaged"

    @property
    def owned(self) -> frozenset[str]:
        """Every key feedpub may overwrite or delete."""
        return frozenset(self.objects) | self.claimed


def encode(manifest: BucketManifest) -> bytes:
    """The manifest object's bytes (stable: sorted keys)."""
    doc = {"format": FORMAT, "version": VERSION,
           "objects": {rel: {"sha256": e.sha256, "etag": e.etag, "content_type": e.content_type,
                             "cache_control": e.cache_control} for rel, e in sorted(manifest.objects.items())},
           "claimed": sorted(manifest.claimed)}
    return (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def decode(data: bytes) -> BucketManifest:
    """The manifest in these bytes; one that cannot be read whole is "damaged" and owns nothing."""
    try:
        doc = json.loads(data)
        if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("version") != VERSION:
            raise ValueError("not a feedpub bucket manifest")
        objects = {rel: _entry(value) for rel, value in doc["objects"].items()}
        claimed = doc.get("claimed", [])
        if not isinstance(claimed, list) or not all(_valid_path(rel) for rel in [*objects, *claimed]):
            raise ValueError("a path outside the prefix")
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError, UnicodeDecodeError):
        return BucketManifest(origin="damaged")
    return BucketManifest(MappingProxyType(objects), frozenset(claimed))


def _entry(value: object) -> Entry:
    if not isinstance(value, dict):
        raise ValueError("an entry is not an object")
    fields = [value.get(name) for name in ("sha256", "etag", "content_type", "cache_control")]
    if not all(isinstance(text, str) for text in fields):
        raise ValueError("an entry lacks a field")
    sha = fields[0]
    if len(sha) != 64 or not set(sha) <= _HEX:
        raise ValueError("not a SHA-256")
    return Entry(*fields)


def _valid_path(rel: object) -> bool:
    if not isinstance(rel, str) or not rel or "\\" in rel or "\x00" in rel:
        return False
    parts = PurePosixPath(rel).parts
    return not rel.startswith("/") and ".." not in parts and parts[0] != PRIVATE_DIR
