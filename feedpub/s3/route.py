"""The publish step of a build whose OUT is a bucket prefix: what the run asks of the bucket.

The cache and the lock stay on this machine. By default the cache is
$XDG_STATE_HOME/feedpub/s3/BUCKET-HASH/state.sqlite (~/.local/state when XDG_STATE_HOME is unset),
HASH naming the endpoint, the bucket and the prefix, so that every target has its own and a cron
line needs no --state; the lock is the `.feedpub.lock` beside it. Losing the cache costs one full
render, never a rewritten object: the manifest in the bucket says which bytes are already there.

A run with nothing to do asks the bucket one thing: is the manifest still the one this machine's
last run left (one HEAD request)? A run that publishes reads the manifest and lists the prefix,
once, and publishes (publisher.py).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Iterable

from ..errors import UsageError
from ..publishconfig import PublishConfig, S3Target
from .bucket import Bucket, open_bucket
from .publisher import BucketState, Published, publish_to_bucket, read_state

__all__ = ["BucketRoute", "default_state_path"]


def default_state_path(target: S3Target, endpoint: str | None, environ=os.environ) -> Path:
    """Where the cache of a target lives when --state does not say: under the XDG state folder."""
    base = environ.get("XDG_STATE_HOME", "")
    if not os.path.isabs(base):                    # the XDG rule: a relative value is ignored
        home = environ.get("HOME", "")
        if not os.path.isabs(home):
            raise UsageError(f"{target}: there is no default place for this target's cache (neither "
                             "XDG_STATE_HOME nor HOME is set): give --state a path")
        base = os.path.join(home, ".local", "state")
    digest = hashlib.sha256("\n".join((endpoint or "", target.bucket, target.prefix)).encode()).hexdigest()[:16]
    return Path(base, "feedpub", "s3", f"{target.bucket}-{digest}", "state.sqlite")


class BucketRoute:
    """One run's bucket: opened once (boto3 is imported here), read at most once."""

    def __init__(self, target: S3Target, settings: PublishConfig, bucket: Bucket | None = None):
        self.target = target
        self.settings = settings
        self.bucket = bucket if bucket is not None else open_bucket(target, settings)
        self._state: BucketState | None = None
        self.published: Published | None = None

    @property
    def endpoint(self) -> str | None:
        return getattr(self.bucket.client.meta, "endpoint_url", None)

    def state_path(self, given: str | os.PathLike | None) -> Path:
        return Path(given) if given is not None else default_state_path(self.target, self.endpoint)

    def unchanged_since(self, record: dict | None) -> bool:
        """The bucket's manifest is the one the last run on this machine left (one HEAD request)."""
        etag = (record or {}).get("manifest_etag")
        return bool(etag) and self.bucket.manifest_etag() == etag

    def state(self) -> BucketState:
        if self._state is None:
            self._state = read_state(self.bucket)
        return self._state

    def intact(self, paths: Iterable[str]) -> bool:
        """Every one of these objects is there as the manifest says feedpub left it."""
        return self.state().intact(paths)

    def publish(self, files: Iterable[tuple[str, bytes]], planned: Iterable[str]) -> Published:
        self.published = publish_to_bucket(self.bucket, self.state(), files, planned=planned, settings=self.settings)
        return self.published

    def record(self) -> dict:
        """What the cache keeps of this publish, for the next run's no-op check."""
        etag = self.published.manifest_etag if self.published is not None else None
        return {"manifest_etag": etag or (self._state.manifest_etag if self._state is not None else None)}
