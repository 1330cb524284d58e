"""Where a build publishes: s3:// targets and the [publish] table, validated like every other table,
with credentials refused (and never quoted) wherever they could be written."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli
from feedpub.config import parse_config
from feedpub.errors import ConfigError
from feedpub.layout import KINDS
from feedpub.publishconfig import (CREDENTIAL_WORDS, DEFAULT_PUBLISH, PUBLISH_KEYS, S3Target, TargetError,
                                   is_s3_target, parse_publish, parse_target)

SITE = """[site]
base_url = "https://example.vn"
[languages.vi]
title = "Tin"
description = "Tin tức"
"""
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def config(publish: str):
    return parse_config(SITE + "[publish]\n" + publish)


@pytest.mark.parametrize("text, bucket, prefix", [
    ("s3://news", "news", ""),
    ("s3://news/", "news", ""),
    ("s3://news/feeds", "news", "feeds"),
    ("s3://news/sites/vi/feeds/", "news", "sites/vi/feeds"),
    ("S3://news.example-1/tin-tức", "news.example-1", "tin-tức"),
    ("s3://my_bucket/a@b", "my_bucket", "a@b"),
])
def test_an_s3_target_is_a_bucket_and_a_prefix(text, bucket, prefix):
    target = parse_target(text)
    assert (target.bucket, target.prefix) == (bucket, prefix)
    assert target.key("vi/rss.xml") == (f"{prefix}/vi/rss.xml" if prefix else "vi/rss.xml")
    assert target.rel(target.key("vi/rss.xml")) == "vi/rss.xml"
    assert is_s3_target(text)


@pytest.mark.parametrize("text, says", [
    ("s3://", "is not a bucket name"),
    ("s3://ab/feeds", "is not a bucket name"),
    ("s3://-news/feeds", "is not a bucket name"),
    ("s3://news..x/feeds", "is not a bucket name"),
    ("s3://news/a//b", "empty, . or .. segment"),
    ("s3://news/a/../b", "empty, . or .. segment"),
    ("s3://news/a b", "holds ' '"),
    ("s3://news/a?x=1", "holds '?'"),
    ("s3://news/a#top", "holds '#'"),
    ("s3://news/a\\b", r"holds '\\'"),
    ("s3://news/a\x1bb", r"holds '\x1b'"),
    ("/var/www/feeds", "is not an s3:// URL"),
    ("s3://news/" + "a" * 1100, "characters long"),
])
def test_a_target_that_cannot_be_used_says_what_was_expected(text, says):
    with pytest.raises(TargetError) as caught:
        parse_target(text)
    assert says in str(caught.value)
    assert "expected s3://BUCKET or s3://BUCKET/PREFIX" in str(caught.value)


@pytest.mark.parametrize("text", [f"s3://AKIAEXAMPLE:{SECRET}@news/feeds", f"s3://AKIAEXAMPLE:{SECRET}"])
def test_credentials_in_a_target_are_refused_without_being_quoted(text):
    with pytest.raises(TargetError) as caught:
        parse_target(text)
    assert SECRET not in str(caught.value) and "AKIAEXAMPLE" not in str(caught.value)
    assert "credentials never go in feedpub.toml" in str(caught.value) or "is not a bucket name" in str(caught.value)


def test_the_publish_table_gives_the_target_endpoint_region_and_headers():
    cfg = config('target = "s3://news/feeds"\nendpoint_url = "http://127.0.0.1:9000/"\nregion = "auto"\n'
                 '[publish.cache_control]\nrss = "public, max-age=60"\n')
    assert cfg.publish.target == S3Target("news", "feeds")
    assert cfg.publish.endpoint_url == "http://127.0.0.1:9000" and cfg.publish.region == "auto"
    assert cfg.publish.cache_control == {**{k.key: k.cache_control for k in KINDS}, "rss": "public, max-age=60"}


def test_without_a_publish_table_nothing_of_it_is_read():
    assert parse_config(SITE).publish is None
    assert DEFAULT_PUBLISH.cache_control == {k.key: k.cache_control for k in KINDS}


@pytest.mark.parametrize("kind", [k.key for k in KINDS])
def test_every_kind_of_file_has_a_settable_cache_control(kind):
    """Generated from layout.KINDS: the keys of [publish.cache_control] are the kinds."""
    assert config(f'[publish.cache_control]\n{kind} = "max-age=1"\n').publish.cache_control[kind] == "max-age=1"


@pytest.mark.parametrize("value", ['"max-age=1\\r\\nX-Evil: 1"', '"max-age=1\\n"', '""', "300", '"tự do"'])
def test_a_cache_control_that_is_not_one_header_value_is_refused(value):
    with pytest.raises(ConfigError, match=r"\[publish.cache_control\] rss: .* \(expected a Cache-Control header"):
        config(f"[publish.cache_control]\nrss = {value}\n")


@pytest.mark.parametrize("table, says", [
    ('targte = "s3://news"', r"\[publish\] targte: unknown key \(did you mean target\?\)"),
    ('target = "s3://ab"', r"\[publish\] target: 'ab' is not a bucket name"),
    ('target = "public"', r"\[publish\] target: is not an s3:// URL"),
    ('target = 3', r"\[publish\] target: 3 is not valid"),
    ('endpoint_url = "ftp://store"', r"\[publish\] endpoint_url: 'ftp://store' is not valid"),
    ('endpoint_url = "http://store:99999"', r"\[publish\] endpoint_url: .* is not valid"),
    ('endpoint_url = "http://store/?x=1"', r"\[publish\] endpoint_url: .* is not valid"),
    ('region = "us east"', r"\[publish\] region: 'us east' is not a region name"),
    ('purge_command = "purge"', r"\[publish\] purge_command: 'purge' is not valid \(expected the command as an array"),
    ('purge_command = []', r"\[publish\] purge_command: \[\] is not valid"),
    ('[publish.cache_control]\nhtml = "max-age=1"', r"\[publish.cache_control\] html: unknown key"),
    ('cache_control = "max-age=1"', r"\[publish.cache_control\] must be a table"),
])
def test_a_bad_publish_key_is_named_with_what_was_expected(table, says):
    with pytest.raises(ConfigError, match=says):
        config(table + "\n")


CREDENTIAL_KEYS = ["aws_access_key_id", "aws_secret_access_key", "aws_session_token", "access_key_id",
                   "secret_access_key", "secret_key", "access_key", "secret", "session_token", "token", "password",
                   "credentials", "AWS_SECRET_ACCESS_KEY", "secret-key"]


@pytest.mark.parametrize("key", CREDENTIAL_KEYS + [f"my_{word}" for word in CREDENTIAL_WORDS])
def test_a_credential_in_the_publish_table_is_refused_and_never_quoted(key):
    with pytest.raises(ConfigError) as caught:
        config(f'"{key}" = "{SECRET}"\n')
    message = str(caught.value)
    assert f"[publish] {key}: credentials never go in feedpub.toml" in message
    assert "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment" in message
    assert SECRET not in message


def test_a_credential_in_the_endpoint_url_is_refused_and_never_quoted():
    with pytest.raises(ConfigError) as caught:
        config(f'endpoint_url = "https://AKIAEXAMPLE:{SECRET.replace("/", "%2F")}@store.example"\n')
    assert "[publish] endpoint_url: holds a user name or password: credentials never go in" in str(caught.value)
    assert "EXAMPLEKEY" not in str(caught.value) and "AKIAEXAMPLE" not in str(caught.value)


def test_a_credential_in_the_config_stops_the_command_and_no_output_shows_it(tmp_path):
    site = tmp_path / "site"
    (site / "articles").mkdir(parents=True)
    (site / "feedpub.toml").write_text(SITE + f'[publish]\ntarget = "s3://news/feeds"\naws_secret_access_key = "{SECRET}"\n')
    report = tmp_path / "report.json"
    for command in (["check", "--data", site, "--report", report],
                    ["build", "--data", site, "--out", tmp_path / "out", "--report", report]):
        proc = run_cli(*command, cwd=tmp_path)
        assert proc.returncode == 3, proc.stderr
        assert "[publish] aws_secret_access_key: credentials never go in feedpub.toml" in proc.stderr
        assert SECRET not in proc.stdout + proc.stderr + report.read_text()


def test_every_publish_key_is_known():
    assert set(PUBLISH_KEYS) == {"target", "endpoint_url", "region", "cache_control", "purge_command"}
    assert parse_publish({}) == DEFAULT_PUBLISH


def test_the_readme_gives_every_kind_its_headers_as_the_code_does():
    """Generated from layout.KINDS: the README's table of headers is the code's, row for row."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    rows = {tuple(cell.strip().strip("`") for cell in line.strip().strip("|").split("|"))
            for line in readme.splitlines() if line.strip().startswith("| `") and "charset=utf-8" in line}
    assert rows == {(kind.key, kind.file, f"{kind.media_type}; charset=utf-8", kind.cache_control) for kind in KINDS}
