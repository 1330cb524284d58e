"""A run you can monitor: --report (JSON, checked against its shipped schema) and --metrics (Prometheus
text, read back with prometheus_client's parser), after every run, failed ones included."""
from __future__ import annotations

import calendar
import json
import os
from datetime import datetime
from pathlib import Path

import feedparser
import jsonschema
import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import NOW_ARG, record, run_cli, write_jsonl
from feedpub.layout import FORMATS
from feedpub.metrics import FEED_SERIES, RUN_SERIES
from feedpub.runreport import SCHEMA_PATH

SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def read_report(path: Path) -> dict:
    data = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(data)
    return data


def read_metrics(path: Path) -> dict[str, list]:
    """name -> [(labels, value)] as Prometheus' own parser reads the file."""
    found: dict[str, list] = {}
    for family in text_string_to_metric_families(path.read_text(encoding="utf-8")):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def feed_dates(path: Path, kind: str) -> list[float]:
    """Each item's published instant, as a client reads the file (feedparser; JSON for JSON Feed)."""
    if kind == "json":
        items = json.loads(path.read_bytes())["items"]
        return [datetime.fromisoformat(item["date_published"]).timestamp() for item in items]
    return [float(calendar.timegm(e.published_parsed)) for e in feedparser.parse(path.read_bytes()).entries]


def no_temporary_files(folder: Path) -> bool:
    return not [p for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp")]


def test_the_schema_is_itself_valid_and_the_readme_documents_its_fields():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    monitoring = readme.split("## Monitoring", 1)[1].split("\n## ", 1)[0]
    for name in SCHEMA["required"]:
        assert f"`{name}`" in monitoring, name
    for name in [*RUN_SERIES, *FEED_SERIES]:
        assert f"`{name}`" in monitoring, name


def test_a_build_reports_every_feed_as_a_reader_sees_it(site, tmp_path):
    out, report, metrics = tmp_path / "out", tmp_path / "mon" / "run.json", tmp_path / "mon" / "feedpub.prom"
    report.parent.mkdir()
    result = run_cli("build", "--data", site, "--out", out, "--now", NOW_ARG, "--report", report, "--metrics", metrics)
    assert result.returncode == 0, result.stderr
    data = read_report(report)
    assert (data["exit_status"], data["meaning"], data["command"], data["nothing_changed"]) == (0, "published", "build", False)
    assert data["records"] == {"valid": 20, "rejected": 0, "files_read": 15, "rows_read": 0}
    samples = read_metrics(metrics)
    assert {f["format"] for f in data["feeds"]} == {f.key for f in FORMATS}
    for feed in data["feeds"]:
        published = feed_dates(out / feed["path"], feed["format"])
        assert feed["items"] == len(published)
        labels = {"out": str(out), "feed": feed["path"], "lang": feed["lang"], "category": feed["category"] or "",
                  "format": feed["format"]}
        assert (labels, float(feed["items"])) in samples["feedpub_feed_items"]
        if published:
            newest = max(published)
            assert (labels, newest) in samples["feedpub_feed_newest_item_timestamp_seconds"]
            assert datetime.fromisoformat(feed["newest_published"].replace("Z", "+00:00")).timestamp() == newest
        else:
            assert feed["newest_published"] is None
    run = {name: values[0][1] for name, values in samples.items() if name in RUN_SERIES}
    assert run["feedpub_last_run_exit_status"] == 0
    assert run["feedpub_last_success_timestamp_seconds"] == run["feedpub_last_run_timestamp_seconds"]
    assert no_temporary_files(report.parent)

    again = run_cli("build", "--data", site, "--out", out, "--now", NOW_ARG, "--report", report, "--metrics", metrics)
    assert again.returncode == 0
    noop = read_report(report)
    assert noop["nothing_changed"] is True
    assert [(f["path"], f["items"], f["newest_published"]) for f in noop["feeds"]] == [
        (f["path"], f["items"], f["newest_published"]) for f in data["feeds"]]
    assert not any(f["changed"] for f in noop["feeds"])


def test_a_failed_run_is_reported_and_keeps_the_last_success_and_the_feeds(site, tmp_path):
    out, report, metrics = tmp_path / "out", tmp_path / "run.json", tmp_path / "feedpub.prom"
    assert run_cli("build", "--data", site, "--out", out, "--now", NOW_ARG, "--metrics", metrics).returncode == 0
    before = read_metrics(metrics)
    (site / "feedpub.toml").write_text("[site\n", encoding="utf-8")
    result = run_cli("build", "--data", site, "--out", out, "--now", NOW_ARG, "--report", report, "--metrics", metrics)
    assert result.returncode == 3
    data = read_report(report)
    assert (data["exit_status"], data["meaning"], data["feeds"]) == (3, "nothing published", [])
    assert data["messages"] == result.stderr.splitlines()
    after = read_metrics(metrics)
    assert after["feedpub_last_run_exit_status"][0][1] == 3
    assert after["feedpub_last_success_timestamp_seconds"] == before["feedpub_last_success_timestamp_seconds"]
    assert after["feedpub_last_run_timestamp_seconds"][0][1] > before["feedpub_last_run_timestamp_seconds"][0][1]
    for name in FEED_SERIES:
        assert sorted(map(repr, after[name])) == sorted(map(repr, before[name]))


def test_rejected_records_are_counted_and_the_first_ones_listed(site, tmp_path):
    write_jsonl(site / "articles" / "zz.jsonl", *(record(id=f"zz{n}", published="31/02/2021") for n in range(25)))
    report = tmp_path / "run.json"
    result = run_cli("build", "--data", site, "--out", tmp_path / "out", "--now", NOW_ARG, "--quiet", "--report", report)
    assert result.returncode == 1
    data = read_report(report)
    assert data["records"]["rejected"] == 25
    assert data["problems"] == result.stderr.splitlines()[:20]


def test_a_locked_run_is_reported_with_exit_4(site, tmp_path):
    from feedpub.publish import OutputLock
    out, report, metrics = tmp_path / "out", tmp_path / "run.json", tmp_path / "feedpub.prom"
    out.mkdir()
    with OutputLock(out, 0):
        result = run_cli("build", "--data", site, "--out", out, "--wait", "0", "--report", report, "--metrics", metrics)
    assert result.returncode == 4
    assert read_report(report)["exit_status"] == 4
    assert "feedpub_last_success_timestamp_seconds" not in read_metrics(metrics)     # never succeeded yet


@pytest.mark.parametrize("command", ["check", "validate"])
def test_check_and_validate_write_a_report_too(site, tmp_path, command):
    out, report = tmp_path / "out", tmp_path / "run.json"
    assert run_cli("build", "--data", site, "--out", out, "--now", NOW_ARG).returncode == 0
    args = ["check", "--data", site] if command == "check" else ["validate", out]
    assert run_cli(*args, "--report", report).returncode == 0
    data = read_report(report)
    assert (data["command"], data["exit_status"]) == (command, 0)


def test_a_report_replaces_the_file_in_one_step(tmp_path):
    """Another process holding the old file open still reads the old report whole (rename, not rewrite)."""
    from feedpub.runreport import write_file_atomically
    target = tmp_path / "run.json"
    target.write_text("old", encoding="utf-8")
    with open(target, encoding="utf-8") as held:
        write_file_atomically(target, b"new")
        assert held.read() == "old"
    assert target.read_text(encoding="utf-8") == "new"
    assert sorted(os.listdir(tmp_path)) == ["run.json"]
