"""The CDN purge hook: a command run with the changed URLs, whose failure is only ever a warning."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from feedpub.purge import batches, purge

URLS = [f"https://cdn.example.vn/feeds/vi/categories/c{i}/rss.xml" for i in range(3000)]


def recorder(tmp_path: Path, status: int = 0, stderr: str = "") -> list[str]:
    """A purge command that appends its arguments (one JSON list a run) to calls.jsonl."""
    script = tmp_path / "purge.py"
    script.write_text("import json, sys\n"
                      f"open({str(tmp_path / 'calls.jsonl')!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n"
                      f"sys.stderr.write({stderr!r})\nsys.exit({status})\n")
    return [sys.executable, str(script)]


def calls(tmp_path: Path) -> list[list[str]]:
    return [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]


def test_every_url_is_passed_once_in_command_lines_of_bounded_size():
    runs = batches(URLS, budget=10_000)
    assert [url for run in runs for url in run] == URLS
    assert all(sum(len(u) + 1 for u in run) <= 10_000 for run in runs) and len(runs) > 1
    assert batches(["x" * 50], budget=10) == [["x" * 50]]        # one URL longer than the budget still goes


def test_the_command_gets_the_urls_as_its_last_arguments(tmp_path):
    command = recorder(tmp_path)
    assert purge([*command, "--zone", "news"], URLS) == []
    made = calls(tmp_path)
    assert len(made) > 1 and all(call[:2] == ["--zone", "news"] for call in made)
    assert sorted(url for call in made for url in call[2:]) == sorted(URLS)


def test_a_failing_command_is_a_warning_with_its_last_line(tmp_path):
    warnings = purge(recorder(tmp_path, status=7, stderr="token expired\n\x1b[31mzone unknown\n"), URLS[:2])
    assert warnings == [f"purge_command {sys.executable}: exited 7: \\x1b[31mzone unknown (2 URLs); the CDN may "
                        "serve the old files until they expire"]


def test_a_missing_command_or_one_that_hangs_is_a_warning(tmp_path):
    assert "cannot be run: No such file or directory" in purge([str(tmp_path / "nothing")], URLS[:1])[0]
    hang = [sys.executable, "-c", "import time; time.sleep(30)"]
    assert "did not finish within 0.5 s" in purge(hang, URLS[:1], timeout=0.5)[0]


def test_a_build_to_a_folder_runs_the_purge_command_with_every_file_it_wrote_or_removed(tmp_path):
    import shutil
    import feedpub
    from conftest import FIXTURE, NOW
    site = Path(shutil.copytree(FIXTURE, tmp_path / "site"))
    (site / "feedpub.toml").write_text((site / "feedpub.toml").read_text(encoding="utf-8") + "\n[publish]\n"
                                       f"purge_command = {json.dumps(recorder(tmp_path))}\n", encoding="utf-8")
    first = feedpub.build(site, tmp_path / "out", now=NOW)
    from test_s3_build import retire
    retire(site, "en")
    second = feedpub.build(site, tmp_path / "out", now=NOW)
    assert second.removed and "en/rss.xml" in second.removed and all(rel.startswith("en/") for rel in second.removed)
    urls = [url for call in calls(tmp_path) for url in call]
    assert sorted(urls) == sorted(f"https://news.example.vn/feeds/{rel}"
                                  for rel in first.updated + second.updated + second.removed)
    assert not (tmp_path / "out" / "en").exists()
