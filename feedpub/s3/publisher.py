"""Publish a run's files to a bucket prefix: only changed bytes, only feedpub's own objects, in a safe order.

A publish reads the manifest and lists the prefix, then:

1. refuses, before writing anything, when a file it would write is an object the manifest neither
   lists nor claims (OutputConflictError: someone else's object; exit 3, as on disk);
2. takes in every rendered file, hashing it: a file whose SHA-256 and headers equal the manifest's,
   and whose object is still the one feedpub wrote (its ETag), is left alone; the others wait in a
   local spool file, so that a run that fails while rendering has written nothing at all;
3. claims the keys it is about to create, in the manifest (only when there are any), so that a run
   cut off after an upload still finds the new object listed as its own;
4. uploads the new and changed objects (each PUT is atomic: an object is old or new, never half);
5. writes the manifest, listing the new objects and claiming the stale ones;
6. deletes the stale objects (those the previous manifest listed that this run no longer makes),
   then writes the manifest once more without them.

The manifest writes are conditional (If-Match the ETag this run read, If-None-Match: * for the
first) where the store honours it, so a run from another machine that published meanwhile stops
this one instead of being overwritten.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Iterable, Mapping

from ..errors import OutputConflictError, PublishError
from ..layout import PRIVATE_DIR, kind_of
from ..publishconfig import PublishConfig
from .bucket import PUT_THREADS, Bucket, Listed
from .manifest import MANIFEST, BucketManifest, Entry, encode

__all__ = ["BucketState", "Published", "object_headers", "publish_to_bucket", "read_state"]


@dataclass(frozen=True)
class BucketState:
    """What a publishing run reads first: the manifest (and its ETag) and every object under the prefix."""

    manifest: BucketManifest
    manifest_etag: str | None
    listing: Mapping[str, Listed]

    def intact(self, paths: Iterable[str] | None = None) -> bool:
        """Every object the manifest lists (or these of them) is there, as feedpub left it."""
        objects = self.manifest.objects
        return all(rel in objects and self.listing.get(rel, Listed("", -1)).etag == objects[rel].etag
                   for rel in (objects if paths is None else paths))


@dataclass
class Published:
    """What a publish did: path -> whether its object was written, each object's size, the paths
    deleted, and the manifest's ETag after it (what the next run's no-op check compares)."""

    changed: dict[str, bool]
    sizes: dict[str, int] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    manifest_etag: str | None = None
    warnings: list[str] = field(default_factory=list)


def read_state(bucket: Bucket) -> BucketState:
    manifest, etag = bucket.read_manifest()
    return BucketState(manifest, etag, MappingProxyType(bucket.listing()))


def object_headers(rel: str, settings: PublishConfig) -> tuple[str, str]:
    """Content-Type and Cache-Control of a published file, by its kind (layout.KINDS)."""
    kind = kind_of(rel)
    return f"{kind.media_type}; charset=utf-8", settings.cache_control[kind.key]


@dataclass(frozen=True, slots=True)
class _Upload:
    rel: str
    offset: int
    length: int
    sha256: str
    content_type: str
    cache_control: str


class _Spool:
    """The bytes of the files to upload, in one anonymous temporary file: memory holds one file at a
    time however big the site, and nothing is uploaded until every file has been rendered."""

    def __init__(self):
        self.file = tempfile.TemporaryFile(prefix="feedpub-upload-", buffering=0)
        self.size = 0

    def add(self, data: bytes) -> tuple[int, int]:
        offset = self.size
        view = memoryview(data)
        while view:                              # unbuffered: a raw write may take only part
            view = view[self.file.write(view):]
        self.size += len(data)
        return offset, len(data)

    def read(self, offset: int, length: int) -> bytes:
        data = os.pread(self.file.fileno(), length, offset)
        if len(data) != length:
            raise PublishError(f"the upload spool ended early at byte {offset + len(data)}")
        return data

    def close(self) -> None:
        self.file.close()


def publish_to_bucket(bucket: Bucket, state: BucketState, files: Iterable[tuple[str, bytes]], *,
                      planned: Iterable[str], settings: PublishConfig) -> Published:
    """Publish every file (relative path -> bytes, possibly lazily) under the bucket's prefix; the
    planned files not given are kept as the manifest lists them. See the module's docstring."""
    planned = frozenset(planned)
    manifest, listing = state.manifest, state.listing
    owned = manifest.owned
    for rel in planned:
        if not rel or rel.startswith("/") or ".." in rel.split("/") or rel.split("/")[0] == PRIVATE_DIR:
            raise PublishError(f"{rel}: refusing to write outside {bucket.target}")
    conflicts = sorted(rel for rel in planned if rel in listing and rel not in owned)
    if conflicts:
        raise OutputConflictError(bucket.target, [(rel, "exists and was not written by feedpub") for rel in conflicts],
                                  manifest=bucket.where(MANIFEST))
    entries: dict[str, Entry] = {}
    changed: dict[str, bool] = {}
    sizes: dict[str, int] = {}
    uploads: list[_Upload] = []
    spool = _Spool()
    try:
        for rel, data in files:
            if rel in changed:
                raise PublishError(f"{rel}: produced twice in one run (two feeds map to one file)")
            if rel not in planned:
                raise PublishError(f"{rel}: produced but not planned; nothing was published")
            sha = hashlib.sha256(data).hexdigest()
            sizes[rel] = len(data)
            content_type, cache_control = object_headers(rel, settings)
            entry, listed = manifest.objects.get(rel), listing.get(rel)
            if (entry is not None and listed is not None and listed.etag == entry.etag
                    and (entry.sha256, entry.content_type, entry.cache_control) == (sha, content_type, cache_control)):
                entries[rel], changed[rel] = entry, False
            else:
                uploads.append(_Upload(rel, *spool.add(data), sha, content_type, cache_control))
                changed[rel] = True
            del data
        kept = sorted(planned - set(changed))
        gone = [rel for rel in kept if not state.intact([rel])]
        if gone:
            raise PublishError(f"{bucket.where(gone[0])}: was to be kept as it is but is missing or was changed in "
                               "the bucket; nothing was published (run again, or with --full)")
        entries.update((rel, manifest.objects[rel]) for rel in kept)
        sizes.update((rel, listing[rel].size) for rel in kept)
        published = _write(bucket, state, spool, uploads, entries, changed, planned)
        published.sizes = dict(sorted(sizes.items()))
        return published
    finally:
        spool.close()


def _write(bucket: Bucket, state: BucketState, spool: _Spool, uploads: list[_Upload], entries: dict[str, Entry],
           changed: dict[str, bool], planned: frozenset[str]) -> Published:
    manifest, etag = state.manifest, state.manifest_etag
    new = frozenset(u.rel for u in uploads) - manifest.owned
    if new:                                        # announced before they exist: a cut-off run's objects stay ours
        etag = bucket.put_manifest(encode(BucketManifest(manifest.objects, manifest.claimed | new)), etag)
    entries.update(_upload_all(bucket, spool, uploads))
    stale = sorted(rel for rel in manifest.owned - planned if rel in state.listing)
    final = BucketManifest(MappingProxyType(dict(sorted(entries.items()))), frozenset(stale))
    if (uploads or new or manifest.origin != "manifest" or manifest.claimed != final.claimed
            or dict(manifest.objects) != entries):
        etag = bucket.put_manifest(encode(final), etag)
    published = Published(changed, manifest_etag=etag)
    if stale:                                       # published: from here on, a failure is a warning
        _retire(bucket, stale, final, published)
    return published


def _retire(bucket: Bucket, stale: list[str], final: BucketManifest, published: Published) -> None:
    """Delete the stale objects, then drop them from the manifest; what cannot be done now stays
    claimed in the manifest, for the next run (the first failure stops the deleting)."""
    left = list(stale)
    try:
        while left:
            bucket.delete(left[0])
            published.removed.append(left.pop(0))
        published.manifest_etag = bucket.put_manifest(encode(BucketManifest(final.objects)), published.manifest_etag)
    except PublishError as exc:
        published.warnings.append(f"{exc}; {len(left)} stale object(s) stay claimed in the manifest, and the next "
                                  "run deletes them")


def _upload_all(bucket: Bucket, spool: _Spool, uploads: list[_Upload]) -> dict[str, Entry]:
    """PUT every upload, PUT_THREADS at a time; on the first failure the rest are not started, and
    the error says how far it got."""
    if not uploads:
        return {}
    done: dict[str, Entry] = {}

    def put(upload: _Upload) -> None:
        body = spool.read(upload.offset, upload.length)
        etag = bucket.put(upload.rel, body, upload.content_type, upload.cache_control)
        done[upload.rel] = Entry(upload.sha256, etag, upload.content_type, upload.cache_control)

    pool = ThreadPoolExecutor(PUT_THREADS, thread_name_prefix="feedpub-put")
    try:
        futures = [pool.submit(put, upload) for upload in uploads]
        wait(futures, return_when=FIRST_EXCEPTION)
        failure = next((f.exception() for f in futures if f.done() and f.exception() is not None), None)
        if failure is not None:
            pool.shutdown(wait=True, cancel_futures=True)
            if not isinstance(failure, PublishError):
                raise failure
            raise PublishError(f"{failure}; {len(done)} of {len(uploads)} changed objects were written and the "
                               "manifest was not: each object is old or new, and the next run completes the "
                               "publish") from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return done
