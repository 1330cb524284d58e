"""Where a build publishes: an `s3://BUCKET/PREFIX` target, and the [publish] table of feedpub.toml.

Pure and light (the standard library only: the S3 client is imported when a bucket is opened, not
when the configuration is read). Credentials are never part of it: a key that looks like one, or a
user name or password in a URL, is a ConfigError that says where credentials go, and no message
quotes the value.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping
from urllib.parse import urlsplit

from .configrules import CONFIG_NAME, reject_unknown
from .errors import ConfigError
from .layout import KINDS
from .text import printable

__all__ = ["CREDENTIALS_HELP", "DEFAULT_PUBLISH", "PUBLISH_KEYS", "PublishConfig", "S3Target", "TargetError",
           "chosen_target", "is_s3_target", "parse_publish", "parse_target"]

PUBLISH_KEYS = ("target", "endpoint_url", "region", "cache_control", "purge_command")
CREDENTIALS_HELP = ("credentials never go in feedpub.toml (expected them from the standard AWS chain: "
                    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment, a profile in "
                    "~/.aws/credentials chosen with AWS_PROFILE, or the machine's own role)")
# A key holding one of these is taken for a credential, whatever else it says (aws_secret_access_key,
# secret_key, session_token, password, ...): refused before the unknown-key check could quote it.
CREDENTIAL_WORDS = ("access_key", "accesskey", "secret", "token", "password", "passwd", "credential")
SCHEME = "s3://"
MAX_TARGET_LENGTH = 1024                     # S3's own limit on a key
_BUCKET = re.compile(r"[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]", re.I)
_REGION = re.compile(r"[a-z0-9][a-z0-9-]{0,62}", re.I)


class TargetError(ValueError):
    """An `s3://` target that cannot be used; the message says what was expected (and never quotes
    a credential)."""


@dataclass(frozen=True, slots=True)
class S3Target:
    """A bucket and a key prefix ("" for the bucket's root; no leading or trailing slash)."""

    bucket: str
    prefix: str = ""

    def key(self, rel: str) -> str:
        """The object key of a file feedpub publishes (a path relative to OUT)."""
        return f"{self.prefix}/{rel}" if self.prefix else rel

    def rel(self, key: str) -> str | None:
        """The path relative to OUT of an object key under the prefix (None for a key outside it)."""
        if not self.prefix:
            return key
        return key[len(self.prefix) + 1:] if key.startswith(self.prefix + "/") else None

    @property
    def list_prefix(self) -> str:
        return f"{self.prefix}/" if self.prefix else ""

    def __str__(self) -> str:
        return f"{SCHEME}{self.bucket}/{self.prefix}" if self.prefix else f"{SCHEME}{self.bucket}"


def is_s3_target(value: object) -> bool:
    """True for a string naming an S3 target (s3://…); anything else is a local folder."""
    return isinstance(value, str) and value[:len(SCHEME)].lower() == SCHEME


def chosen_target(out: str | None, settings: "PublishConfig | None") -> S3Target | None:
    """Where a build publishes when OUT is given as out (None: not given): the bucket prefix, or None
    for a folder. An s3:// OUT is the target; without OUT, [publish] target is (TargetError for an
    s3:// string that names no bucket prefix)."""
    if out is None:
        return settings.target if settings is not None else None
    return parse_target(out) if is_s3_target(out) else None


def parse_target(text: str) -> S3Target:
    """`s3://BUCKET` or `s3://BUCKET/PREFIX` -> S3Target; TargetError says what is wrong."""
    expected = "expected s3://BUCKET or s3://BUCKET/PREFIX"
    if not is_s3_target(text):
        raise TargetError(f"is not an s3:// URL ({expected})")
    rest = text[len(SCHEME):]
    bucket, _, prefix = rest.partition("/")
    if "@" in bucket:
        raise TargetError(f"holds a user name or password: {CREDENTIALS_HELP}")
    if len(text) > MAX_TARGET_LENGTH:
        raise TargetError(f"is {len(text):,} characters long ({expected}, at most {MAX_TARGET_LENGTH:,} characters)")
    if not _BUCKET.fullmatch(bucket) or ".." in bucket:
        shown = "the bucket" if ":" in bucket else printable(repr(bucket))       # never a KEY:SECRET
        raise TargetError(f"{shown} is not a bucket name ({expected}; a bucket name is 3 to 63 "
                          "letters, digits, dots, hyphens or underscores, beginning and ending with a letter or digit)")
    prefix = prefix.rstrip("/")
    if prefix:
        bad = next((c for c in prefix if not c.isprintable() or c.isspace() or c in "\\?#"), None)
        if bad is not None:
            raise TargetError(f"the prefix {printable(repr(prefix))} holds {printable(repr(bad))} ({expected}; a "
                              "prefix is a path without whitespace, control characters, backslashes, ? or #)")
        if any(part in ("", ".", "..") for part in prefix.split("/")):
            raise TargetError(f"the prefix {printable(repr(prefix))} has an empty, . or .. segment ({expected}; "
                              "a CDN would not serve such a path as written)")
    return S3Target(bucket, prefix)


@dataclass(frozen=True, slots=True)
class PublishConfig:
    """The validated [publish] table. The S3 settings matter only for an s3:// target."""

    target: S3Target | None = None                # the default OUT when the command names none
    endpoint_url: str | None = None               # a non-AWS store (AWS_ENDPOINT_URL does the same)
    region: str | None = None
    cache_control: Mapping[str, str] = field(      # layout.KINDS key -> Cache-Control of its objects
        default_factory=lambda: MappingProxyType({kind.key: kind.cache_control for kind in KINDS}))
    purge_command: tuple[str, ...] = ()           # run with the changed files' URLs after publishing


DEFAULT_PUBLISH = PublishConfig()


def _where(key: str, table: str = "publish") -> str:
    return f"{CONFIG_NAME}: [{table}] {key}"


def _refuse_credentials(table: Mapping, name: str) -> None:
    for key in table:
        if isinstance(key, str) and any(word in key.lower().replace("-", "_") for word in CREDENTIAL_WORDS):
            raise ConfigError(f"{_where(printable(key), name)}: {CREDENTIALS_HELP}")


def _text(table: Mapping, key: str, table_name: str = "publish") -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{_where(key, table_name)}: {printable(repr(value))} is not valid (expected a non-empty "
                          "string)")
    return value.strip()


def _endpoint(table: Mapping) -> str | None:
    value = _text(table, "endpoint_url")
    if value is None:
        return None
    expected = ("expected the store's http(s) address, such as https://ACCOUNT.r2.cloudflarestorage.com or "
                "http://127.0.0.1:9000")
    try:
        parts = urlsplit(value)
        _ = parts.port
    except ValueError:
        parts = None
    if parts is not None and (parts.username is not None or parts.password is not None):
        raise ConfigError(f"{_where('endpoint_url')}: holds a user name or password: {CREDENTIALS_HELP}")
    if (parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname
            or parts.query or parts.fragment or any(not c.isprintable() or c.isspace() for c in value)):
        raise ConfigError(f"{_where('endpoint_url')}: {printable(repr(value))} is not valid ({expected})")
    return value.rstrip("/")


def _cache_control(table: Any) -> Mapping[str, str]:
    defaults = {kind.key: kind.cache_control for kind in KINDS}
    if table is None:
        return MappingProxyType(defaults)
    name = "publish.cache_control"
    if not isinstance(table, dict):
        raise ConfigError(f"{CONFIG_NAME}: [{name}] must be a table (expected a kind of file = \"Cache-Control "
                          f"value\", such as rss = \"public, max-age=300\"; kinds: {', '.join(defaults)})")
    reject_unknown(table, name, tuple(defaults))
    for key, value in table.items():
        if not isinstance(value, str) or not value.strip() or any(not " " <= c <= "~" for c in value):
            raise ConfigError(f"{_where(key, name)}: {printable(repr(value))} is not valid (expected a Cache-Control "
                              "header value in printable ASCII, such as \"public, max-age=300\")")
        defaults[key] = value.strip()
    return MappingProxyType(defaults)


def _purge_command(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if (not isinstance(value, list) or not value or not all(isinstance(word, str) and word for word in value)
            or any("\x00" in word for word in value)):
        raise ConfigError(f"{_where('purge_command')}: {printable(repr(value))} is not valid (expected the command "
                          "as an array of strings, the program first, such as [\"/usr/local/bin/purge-cdn\", "
                          "\"--zone\", \"news\"]; the changed URLs are added as arguments)")
    return tuple(value)


def parse_publish(table: Any) -> PublishConfig:
    """Validate the [publish] table (ConfigError naming the key)."""
    if not isinstance(table, dict):
        raise ConfigError(f"{CONFIG_NAME}: [publish] must be a table (expected {', '.join(PUBLISH_KEYS)})")
    _refuse_credentials(table, "publish")
    if isinstance(table.get("cache_control"), dict):
        _refuse_credentials(table["cache_control"], "publish.cache_control")
    reject_unknown(table, "publish", PUBLISH_KEYS)
    target = None
    raw_target = _text(table, "target")
    if raw_target is not None:
        try:
            target = parse_target(raw_target)
        except TargetError as exc:
            raise ConfigError(f"{_where('target')}: {exc}") from None
    region = _text(table, "region")
    if region is not None and not _REGION.fullmatch(region):
        raise ConfigError(f"{_where('region')}: {printable(repr(region))} is not a region name (expected letters, "
                          "digits and hyphens, such as us-east-1, or auto)")
    return PublishConfig(target=target, endpoint_url=_endpoint(table), region=region,
                         cache_control=_cache_control(table.get("cache_control")),
                         purge_command=_purge_command(table.get("purge_command")))
