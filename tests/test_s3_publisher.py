"""The bucket publisher against a real S3 server (rclone serve s3): only changed bytes, only feedpub's
own objects, the right headers, a safe order, and faults that leave every object old or new."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

import feedpub
from conftest import DATA, NOW, published
from feedpub.errors import OutputConflictError, PublishError
from feedpub.layout import KINDS, kind_of
from feedpub.publishconfig import DEFAULT_PUBLISH, parse_publish, parse_target
from feedpub.s3.bucket import open_bucket
from feedpub.s3.manifest import MANIFEST, decode
from feedpub.s3.publisher import publish_to_bucket, read_state
from s3server import BUCKET

PREFIX = "site"


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, bytes]:
    """Every file of the sample site, as a build writes it to disk."""
    root = tmp_path_factory.mktemp("disk")
    site = Path(shutil.copytree(DATA, root / "site"))
    feedpub.build(site, root / "out", now=NOW)
    return published(root / "out")


def publish(files: dict[str, bytes], *, settings=DEFAULT_PUBLISH, planned=None, prefix: str = PREFIX):
    bucket = open_bucket(parse_target(f"s3://{BUCKET}/{prefix}"), settings)
    return publish_to_bucket(bucket, read_state(bucket), files.items(), planned=planned or set(files),
                             settings=settings)


def keys(files) -> set[str]:
    return {f"{PREFIX}/{rel}" for rel in files}


def manifest(s3) -> dict:
    return json.loads(s3.objects(f"{PREFIX}/.feedpub/")[f"{PREFIX}/{MANIFEST}"])


def puts(requests) -> list[str]:
    return [r.key for r in requests if r.method == "PUT"]


def test_a_first_publish_writes_every_file_as_an_object_and_lists_it_with_its_sha256(s3, files):
    result = publish(files)
    assert all(result.changed.values()) and set(result.changed) == set(files)
    objects = s3.objects(f"{PREFIX}/")
    assert {k: v for k, v in objects.items() if k != f"{PREFIX}/{MANIFEST}"} == {f"{PREFIX}/{r}": b for r, b in files.items()}
    listed = manifest(s3)["objects"]
    assert {rel: entry["sha256"] for rel, entry in listed.items()} == {
        rel: hashlib.sha256(data).hexdigest() for rel, data in files.items()}


def test_every_kind_is_served_with_its_media_type_and_cache_control(s3, files):
    """Generated from layout.KINDS: every kind of file the site has, and the headers it is given."""
    publish(files)
    seen = set()
    for rel in files:
        kind = kind_of(rel)
        seen.add(kind.key)
        head = s3.head(f"{PREFIX}/{rel}")
        assert head["ContentType"] == f"{kind.media_type}; charset=utf-8", rel
        assert head["CacheControl"] == kind.cache_control, rel
    assert seen == {kind.key for kind in KINDS}
    feeds = {kind.cache_control for kind in KINDS if kind.key in ("rss", "atom", "json")}
    assert feeds == {"public, max-age=300"}
    assert dict((k.key, k.cache_control) for k in KINDS)["stylesheet"] == "public, max-age=86400"


def test_a_configured_cache_control_rewrites_only_the_headers_that_changed(s3, files):
    publish(files)
    settings = parse_publish({"cache_control": {"stylesheet": "public, max-age=31536000, immutable"}})
    s3.proxy.reset()
    result = publish(files, settings=settings)
    assert [rel for rel, changed in result.changed.items() if changed] == ["feed.css"]
    assert puts(s3.proxy.taken()) == [f"{PREFIX}/feed.css", f"{PREFIX}/{MANIFEST}"]
    assert s3.head(f"{PREFIX}/feed.css")["CacheControl"] == "public, max-age=31536000, immutable"


def test_publishing_the_same_bytes_again_writes_nothing(s3, files):
    publish(files)
    before = {k: s3.head(k)["LastModified"] for k in keys(files)}
    s3.proxy.reset()
    result = publish(files)
    requests = s3.proxy.taken()
    assert not any(result.changed.values())
    assert [(r.method, r.key) for r in requests] == [("GET", f"{PREFIX}/{MANIFEST}"), ("GET", "")]
    assert {k: s3.head(k)["LastModified"] for k in keys(files)} == before


def test_one_changed_file_is_one_put_then_the_manifest(s3, files):
    publish(files)
    changed = dict(files, **{"vi/rss.xml": files["vi/rss.xml"].replace(b"</channel>", b"<!-- x --></channel>")})
    s3.proxy.reset()
    publish(changed)
    assert puts(s3.proxy.taken()) == [f"{PREFIX}/vi/rss.xml", f"{PREFIX}/{MANIFEST}"]
    assert s3.objects(f"{PREFIX}/vi/rss.xml")[f"{PREFIX}/vi/rss.xml"] == changed["vi/rss.xml"]


def test_new_objects_are_claimed_first_written_next_the_manifest_after_them_stale_ones_deleted_last(s3, files):
    publish(files)
    retired = {rel for rel in files if rel.startswith("en/")}
    added = {"vi/categories/moi/rss.xml": b"<rss>new</rss>", "vi/categories/moi/index.html": b"<p>new</p>"}
    now = {**{r: b for r, b in files.items() if r not in retired}, **added,
           "vi/atom.xml": files["vi/atom.xml"] + b"\n"}
    s3.proxy.reset()
    result = publish(now)
    order = [(r.method, r.key.removeprefix(f"{PREFIX}/")) for r in s3.proxy.taken()]
    manifest_puts = [i for i, step in enumerate(order) if step == ("PUT", MANIFEST)]
    object_puts = [i for i, (method, key) in enumerate(order) if method == "PUT" and key != MANIFEST]
    deletes = [i for i, (method, _) in enumerate(order) if method == "DELETE"]
    assert {order[i][1] for i in object_puts} == set(added) | {"vi/atom.xml"}
    assert {order[i][1] for i in deletes} == retired == set(result.removed)
    claim, listing, cleared = manifest_puts
    assert claim < min(object_puts) and max(object_puts) < listing < min(deletes) and max(deletes) < cleared
    assert set(s3.objects(f"{PREFIX}/")) == keys(now) | {f"{PREFIX}/{MANIFEST}"}
    assert manifest(s3)["claimed"] == []


def test_an_object_feedpub_did_not_write_at_one_of_its_keys_stops_the_publish_before_any_write(s3, files):
    s3.put(f"{PREFIX}/vi/rss.xml", b"<rss>the newsroom's own</rss>")
    with pytest.raises(OutputConflictError) as caught:
        publish(files)
    assert "vi/rss.xml exists and was not written by feedpub" in str(caught.value)
    assert f"s3://{BUCKET}/{PREFIX}/{MANIFEST}" in str(caught.value)
    assert not puts(s3.proxy.taken())
    assert s3.objects(f"{PREFIX}/") == {f"{PREFIX}/vi/rss.xml": b"<rss>the newsroom's own</rss>"}


def test_objects_elsewhere_under_the_prefix_are_never_touched(s3, files):
    others = {f"{PREFIX}/about/index.html": b"<h1>About</h1>", f"{PREFIX}/vi/notes.txt": b"kept",
              f"{PREFIX}/docs/rss.xml": b"<rss>theirs</rss>", "elsewhere/vi/rss.xml": b"<rss>other site</rss>"}
    for key, data in others.items():
        s3.put(key, data)
    publish(files)
    publish({rel: data for rel, data in files.items() if not rel.startswith("en/")})
    objects = s3.objects()
    assert {k: objects[k] for k in others} == others
    assert not set(manifest(s3)["objects"]) & {k.removeprefix(f"{PREFIX}/") for k in others}


def test_the_manifest_is_written_only_if_nobody_else_wrote_it_meanwhile(s3, files):
    publish({"index.html": files["index.html"]})
    first = [r for r in s3.proxy.taken() if r.method == "PUT" and r.key.endswith(MANIFEST)]
    assert first[0].headers.get("if-none-match") == "*"
    etag = s3.head(f"{PREFIX}/{MANIFEST}")["ETag"]
    publish({"index.html": files["index.html"] + b"\n"})
    second = [r for r in s3.proxy.taken() if r.method == "PUT" and r.key.endswith(MANIFEST)]
    assert second[0].headers.get("if-match") == etag


def test_a_manifest_changed_by_another_run_stops_this_one(s3, files):
    s3.proxy.fault = lambda r: (412, "PreconditionFailed") if r.method == "PUT" and r.key.endswith(MANIFEST) else None
    with pytest.raises(PublishError, match="another run changed the manifest while this one was publishing"):
        publish(files)


def test_a_store_without_conditional_writes_gets_a_plain_manifest_write(s3, files):
    s3.proxy.fault = lambda r: ((501, "NotImplemented") if r.method == "PUT" and r.key.endswith(MANIFEST)
                                and ("if-match" in r.headers or "if-none-match" in r.headers) else None)
    publish(files)
    assert decode(s3.objects(f"{PREFIX}/{MANIFEST}")[f"{PREFIX}/{MANIFEST}"]).origin == "manifest"


@pytest.mark.parametrize("status, code", [(500, "InternalError"), (503, "SlowDown"), (503, "ServiceUnavailable")])
def test_a_failing_request_is_retried(s3, files, status, code):
    """The manifest read, the listing, the first uploads and the manifest write each fail once."""
    failed: list[tuple[str, str]] = []

    def once(request):
        step = (request.method, request.key)
        if step not in failed and (request.method != "PUT" or len(failed) < 5 or request.key.endswith(MANIFEST)):
            failed.append(step)
            return status, code
        return None

    s3.proxy.fault = once
    publish(files)
    assert {("GET", f"{PREFIX}/{MANIFEST}"), ("GET", ""), ("PUT", f"{PREFIX}/{MANIFEST}")} < set(failed)
    assert len([key for method, key in failed if method == "PUT" and not key.endswith(MANIFEST)]) >= 2
    assert {k: v for k, v in s3.objects(f"{PREFIX}/").items() if not k.endswith(MANIFEST)} == {
        f"{PREFIX}/{r}": b for r, b in files.items()}


def test_a_run_cut_off_midway_leaves_every_object_old_or_new_and_the_next_run_completes_it(s3, files):
    publish(files)
    old = s3.objects(f"{PREFIX}/")
    new = {rel: data + b"\n" for rel, data in files.items()}
    new["vi/categories/moi/rss.xml"] = b"<rss>a new category</rss>"
    written = []

    def stop_after_five(request):
        if request.method == "PUT" and not request.key.endswith(MANIFEST):
            written.append(request.key)
            if len(written) > 5:
                return "drop"
        return None

    s3.proxy.fault = stop_after_five
    with pytest.raises(PublishError, match="the next run completes the publish"):
        publish(new)
    s3.proxy.fault = None
    after = s3.objects(f"{PREFIX}/")
    for key, data in after.items():
        rel = key.removeprefix(f"{PREFIX}/")
        if rel != MANIFEST:
            assert data in (old.get(key), new.get(rel)), key
    assert decode(after[f"{PREFIX}/{MANIFEST}"]).objects == decode(old[f"{PREFIX}/{MANIFEST}"]).objects
    publish(new)
    assert {k: v for k, v in s3.objects(f"{PREFIX}/").items() if not k.endswith(MANIFEST)} == {
        f"{PREFIX}/{r}": b for r, b in new.items()}
    assert manifest(s3)["claimed"] == []


def test_a_bucket_root_is_a_target_too(s3, files):
    bucket = open_bucket(parse_target(f"s3://{BUCKET}"), DEFAULT_PUBLISH)
    publish_to_bucket(bucket, read_state(bucket), files.items(), planned=set(files), settings=DEFAULT_PUBLISH)
    assert s3.objects("vi/rss.xml") == {"vi/rss.xml": files["vi/rss.xml"]}
    assert MANIFEST in s3.objects(".feedpub/")
