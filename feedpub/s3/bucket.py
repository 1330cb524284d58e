"""A bucket prefix as feedpub uses it: the S3 client (boto3, the `s3` extra) and the few requests a
run makes, each failure turned into one PublishError that names the object and never a credential.

Credentials come only from the standard AWS chain (environment, shared files, the machine's role);
the endpoint and the region from the environment (AWS_ENDPOINT_URL, AWS_REGION), else [publish],
else the AWS configuration files. Retries are botocore's own: its "standard" mode retries 500, 502,
503, 504, SlowDown and dropped connections with exponential backoff capped at 20 s, up to
DEFAULT_ATTEMPTS attempts (AWS_MAX_ATTEMPTS and AWS_RETRY_MODE change that, as for any AWS tool).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError, PublishError
from ..publishconfig import CREDENTIALS_HELP, PublishConfig, S3Target
from ..text import printable
from .manifest import MANIFEST, BucketManifest, decode

__all__ = ["DEFAULT_ATTEMPTS", "PUT_THREADS", "Bucket", "Listed", "open_bucket"]

DEFAULT_ATTEMPTS = 5                 # each request: the first try and four retries
PUT_THREADS = 8                      # uploads in flight at once
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0
MANIFEST_TYPE = "application/json; charset=utf-8"
MANIFEST_CACHE_CONTROL = "no-store"
# What the store answers when the credentials themselves are wrong: the message says where they come from.
_CREDENTIAL_CODES = frozenset({"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken",
                               "InvalidClientTokenId", "TokenRefreshRequired", "AuthorizationHeaderMalformed"})
_PRECONDITION_CODES = frozenset({"PreconditionFailed", "ConditionalRequestConflict", "412", "409"})
_UNSUPPORTED_CODES = frozenset({"NotImplemented", "501"})


@dataclass(frozen=True, slots=True)
class Listed:
    """An object as a listing shows it."""

    etag: str
    size: int


def open_bucket(target: S3Target, settings: PublishConfig) -> "Bucket":
    """The bucket behind target, with a client configured from the standard AWS chain and settings."""
    try:
        import boto3
        from botocore.config import Config
        from botocore.session import get_session
    except ImportError as exc:
        from ..extras import install_hint
        raise ConfigError(f"{target}: publishing to an S3-compatible store needs boto3 (the s3 extra): "
                          f"{install_hint('s3', missing=exc.name)}") from None
    from ..version import __version__
    core = get_session()
    retries = {"mode": core.get_config_variable("retry_mode") or "standard",
               "total_max_attempts": core.get_config_variable("max_attempts") or DEFAULT_ATTEMPTS}
    config = Config(retries=retries, connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT,
                    max_pool_connections=PUT_THREADS + 2, user_agent_extra=f"feedpub/{__version__}")
    kwargs: dict[str, Any] = {"config": config}
    # The environment first (flag > environment > feedpub.toml > default), then [publish], then what
    # botocore finds in the AWS configuration files.
    if settings.endpoint_url and not (os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")):
        kwargs["endpoint_url"] = settings.endpoint_url
    if settings.region and not (os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")):
        kwargs["region_name"] = settings.region
    try:
        client = boto3.session.Session(botocore_session=core).client("s3", **kwargs)
    except Exception as exc:                 # noqa: BLE001 - a bad AWS_* setting: botocore's own words
        raise PublishError(f"{target}: the S3 client cannot be set up: {_describe(exc)}") from None
    return Bucket(target, client)


class Bucket:
    """One bucket prefix: reading the manifest, listing, writing and deleting objects. `requests`
    counts every HTTP request sent (retries included)."""

    def __init__(self, target: S3Target, client):
        self.target = target
        self.client = client
        self.requests = 0
        self.conditional = True            # the store has not said it cannot do conditional writes
        client.meta.events.register("before-send.s3", self._count)

    def _count(self, **_) -> None:
        self.requests += 1

    def where(self, rel: str) -> str:
        return f"{self.target}/{rel}"

    def manifest_etag(self) -> str | None:
        """The manifest object's ETag (one HEAD request); None when there is none."""
        try:
            answer = self.client.head_object(Bucket=self.target.bucket, Key=self.target.key(MANIFEST))
        except Exception as exc:             # noqa: BLE001 - translated below
            if _status(exc) == 404:
                return None
            raise self.failure(exc, MANIFEST, "cannot be read") from None
        return _etag(answer.get("ETag"))

    def read_manifest(self) -> tuple[BucketManifest, str | None]:
        """The manifest and its ETag (one GET request)."""
        try:
            answer = self.client.get_object(Bucket=self.target.bucket, Key=self.target.key(MANIFEST))
            data = answer["Body"].read()
        except Exception as exc:             # noqa: BLE001 - translated below
            if _status(exc) == 404 or _code(exc) == "NoSuchKey":
                return BucketManifest(origin="none"), None
            raise self.failure(exc, MANIFEST, "cannot be read") from None
        return decode(data), _etag(answer.get("ETag"))

    def listing(self) -> dict[str, Listed]:
        """Every object under the prefix, by its path relative to the prefix (one request per 1,000)."""
        found: dict[str, Listed] = {}
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.target.bucket,
                                                                          Prefix=self.target.list_prefix)
            for page in pages:
                for item in page.get("Contents", ()):
                    rel = self.target.rel(item["Key"])
                    if rel:
                        found[rel] = Listed(_etag(item.get("ETag")), int(item.get("Size", 0)))
        except Exception as exc:             # noqa: BLE001 - translated below
            raise self.failure(exc, "", "cannot be listed") from None
        return found

    def put(self, rel: str, body: bytes, content_type: str, cache_control: str) -> str:
        """Write one object (one atomic PUT); its new ETag."""
        try:
            answer = self.client.put_object(Bucket=self.target.bucket, Key=self.target.key(rel), Body=body,
                                            ContentType=content_type, CacheControl=cache_control)
        except Exception as exc:             # noqa: BLE001 - translated below
            raise self.failure(exc, rel, "cannot be written") from None
        return _etag(answer.get("ETag"))

    def put_manifest(self, manifest: bytes, previous: str | None) -> str:
        """Write the manifest only if it is still the one this run read (If-Match its ETag, or
        If-None-Match: * when there was none), where the store honours conditional writes."""
        condition = {"IfMatch": f'"{previous}"'} if previous else {"IfNoneMatch": "*"}
        key = self.target.key(MANIFEST)
        for conditional in ((True, False) if self.conditional else (False,)):
            try:
                answer = self.client.put_object(Bucket=self.target.bucket, Key=key, Body=manifest,
                                                ContentType=MANIFEST_TYPE, CacheControl=MANIFEST_CACHE_CONTROL,
                                                **(condition if conditional else {}))
                return _etag(answer.get("ETag"))
            except Exception as exc:         # noqa: BLE001 - translated below
                if conditional and _code(exc) in _UNSUPPORTED_CODES:
                    self.conditional = False          # a store without conditional writes: write it plainly
                    continue
                if _code(exc) in _PRECONDITION_CODES:
                    raise PublishError(f"{self.where(MANIFEST)}: another run changed the manifest while this one "
                                       "was publishing (from another machine, or with another --state); this run "
                                       "stopped before writing it; run again") from None
                raise self.failure(exc, MANIFEST, "cannot be written") from None
        raise AssertionError("unreachable")

    def delete(self, rel: str) -> None:
        try:
            self.client.delete_object(Bucket=self.target.bucket, Key=self.target.key(rel))
        except Exception as exc:             # noqa: BLE001 - translated below
            raise self.failure(exc, rel, "cannot be deleted") from None

    def failure(self, exc: BaseException, rel: str, what: str) -> PublishError:
        """One line for a failed request: the object, what failed and the store's own code and words."""
        where = self.where(rel) if rel else str(self.target)
        return PublishError(f"{where}: {what}: {_describe(exc)}")


def _etag(value: object) -> str:
    return value.strip('"') if isinstance(value, str) else ""


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return None


def _code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code") or _status(exc) or "")
    return ""


def _describe(exc: BaseException) -> str:
    """The store's error code and message (ClientError), or botocore's sentence; credentials are in
    none of them (botocore never puts a secret in an exception), and every character is printable."""
    from botocore.exceptions import NoCredentialsError, PartialCredentialsError
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return f"no usable credentials were found: {CREDENTIALS_HELP}"
    code = _code(exc)
    if code:
        message = str(getattr(exc, "response", {}).get("Error", {}).get("Message") or "").strip()
        status = _status(exc)
        said = f"{code}{f' (HTTP {status})' if status and str(status) != code else ''}"
        said += f": {message}" if message else ""
        if code in _CREDENTIAL_CODES or status == 403:
            said += f"; the store refused these credentials or their rights ({CREDENTIALS_HELP})"
        return printable(said)
    return printable(str(exc) or type(exc).__name__)
