"""The publish step of a build whose OUT is a bucket prefix: what the run asks of the bucket.

The cache and the lock stay on this machine. By default the cache is
$XDG_STATE_HOME/feedpub/s3/BUCKET-HASH/state.sqlite (~/.local/state when XDG_STATE_HOME is unset),
HASH naming the endpoint, the bucket and the prefix, so that every target has its own and a cron
line needs no --state; the lock is the one beside it. Losing the cache costs one full render,
never a rewritten object: the manifest in the bucket says which bytes are already there.

A run with nothing to do asks the bucket one thing: is the manifest still the one this machine's
last run left (one HEAD request)? A run that publishes reads the manifest and lists the prefix,
once, and publishes (publisher.py).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Iterable, Mapping

from ..errors import UsageError
from ..layout import STATE_NAME
from ..publishconfig import PublishConfig, S3Target
from ..runstate import RunState
from .bucket import Bucket, open_bucket
from .publisher import BucketState, Published, publish_to_bucket, read_state

__all__ = ["BucketRoute", "default_state_path"]

STATE_FILE = STATE_NAME.rpartition("/")[2]


def default_state_path(target: S3Target, endpoint: str | None, environ: Mapping[str, str] = os.environ) -> Path:
    """Where the cache of a target lives when --state does not say: under the XDG state folder."""
    base = environ.get("XDG_STATE_HOME", "")
    if not os.path.isabs(base):                    # the XDG rule: a relative value is ignored
        home = environ.get("HOME", "")
        if not os.path.isabs(home):
            raise UsageError(f"{target}: there is no default place for this target's cache (neither "
                             "XDG_STATE_HOME nor HOME is set): give --state a path")
        base = os.path.join(home, ".local", "state")
    digest = hashlib.sha256("\n".join((endpoint or "", target.bucket, target.prefix)).encode()).hexdigest()[:16]
    return Path(base, "feedpub", "s3", f"{target.bucket}-{digest}", STATE_FILE)


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

    @property
    def where(self) -> str:
        """The target as the run state names it: its endpoint and its s3:// URL."""
        return f"{self.endpoint or ''} {self.target}"

    def state_path(self, given: str | os.PathLike | None) -> tuple[Path, bool]:
        """The cache's path, and whether it is the default one (in a folder of feedpub's own)."""
        if given is not None:
            return Path(given), False
        return default_state_path(self.target, self.endpoint), True

    def unchanged_since(self, last: RunState) -> bool:
        """The bucket's manifest is the one the last run on this machine left (one HEAD request)."""
        if last.bucket is None or last.bucket[0] != self.where:
            return False
        return self.bucket.manifest_etag() == last.bucket[1]

    def state(self) -> BucketState:
        if self._state is None:
            self._state = read_state(self.bucket)
        return self._state

    def publish(self, files: Iterable[tuple[str, bytes]], planned: Iterable[str]) -> dict[str, bool]:
        """Publish the run's files (publisher.py); path -> whether its object was written."""
        self.published = publish_to_bucket(self.bucket, self.state(), files, planned=planned, settings=self.settings)
        return self.published.changed

    def outputs(self) -> dict[str, tuple[int, int]]:
        """The objects published, as the run state lists outputs (size; no modification time)."""
        return {rel: (size, 0) for rel, size in (self.published.sizes if self.published else {}).items()}

    def record(self) -> tuple[str, str] | None:
        """What the run state keeps of this bucket for the next run's no-op check."""
        etag = self.published.manifest_etag if self.published is not None else None
        etag = etag or (self._state.manifest_etag if self._state is not None else None)
        return (self.where, etag) if etag else None

    @property
    def removed(self) -> list[str]:
        return list(self.published.removed) if self.published is not None else []

    @property
    def warnings(self) -> list[str]:
        return list(self.published.warnings) if self.published is not None else []
