"""feedpub validate never passes over what it cannot read: every such name is an error, exit 1.

The cases are generated from the checker's own list of feed suffixes (FEED_SUFFIXES), so a
suffix added there is covered here. Permission bits do not stop the superuser, so when the
tests run as root the command runs without the capabilities that override them (setpriv).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from feedpub.validate import validate_output
from feedpub.validate.files import FEED_SUFFIXES

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Tin</title><link>https://x.vn/</link><description>Tin mới</description>
<language>vi</language></channel></rss>
"""
BROKEN = "<rss version='2.0'><channel><title>not closed</channel></rss>"
UNREADABLE = {       # kind -> what the finding says
    "folder": "is a folder that cannot be read: Permission denied (expected a folder validate can list: "
              "the feeds in it were not checked)",
    "file": "cannot be read: Permission denied (expected a readable file)",
    "fifo": "is a FIFO (expected a regular file holding a feed)",
    "dangling": "is a link to nothing (expected a regular file holding a feed)",
}


def _unprivileged(argv: list[str]) -> list[str]:
    """argv as a process that permission bits stop: as is, or for root without the DAC override."""
    if os.geteuid() != 0:
        return argv
    drop = [shutil.which("setpriv") or "setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]
    try:
        probe = subprocess.run([*drop, "true"], capture_output=True, timeout=10)
    except OSError as exc:
        pytest.skip(f"running as root and setpriv cannot run ({exc}): permission bits would not apply")
    if probe.returncode != 0:
        pytest.skip(f"running as root and setpriv cannot drop the DAC override: {probe.stderr.decode().strip()}")
    return [*drop, *argv]


def _make(out: Path, kind: str, suffix: str) -> str:
    """One entry of the given kind under out; returns the name validate must report."""
    if kind == "folder":
        folder = out / f"locked{suffix.replace('.', '-')}"
        folder.mkdir()
        (folder / f"rss{suffix}").write_text(BROKEN)
        folder.chmod(0)
        return folder.name + "/"
    path = out / f"{kind}{suffix}"
    if kind == "file":
        path.write_text(BROKEN)
        path.chmod(0)
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to(out / "missing" / path.name)
    return path.name


def test_every_name_validate_cannot_read_is_an_error(tmp_path):
    out = tmp_path / "out"
    (out / "vi").mkdir(parents=True)
    (out / "vi" / "rss.xml").write_text(RSS, encoding="utf-8")
    expected = {_make(out, kind, suffix): message for kind, message in UNREADABLE.items() for suffix in FEED_SUFFIXES}
    try:
        proc = subprocess.run(_unprivileged([sys.executable, "-m", "feedpub", "validate", str(out)]),
                              capture_output=True, text=True, timeout=60)
    finally:
        for path in out.iterdir():
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o755)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    for name, message in expected.items():
        assert f"FAIL {name} (unknown): 1 error(s)" in lines, proc.stdout
        assert f"    error: {name}: {message}" in lines, proc.stdout
    assert lines[-1] == f"{len(expected) + 1} files checked, {len(expected)} with errors"


def test_an_unlistable_output_folder_is_an_error_not_an_empty_one(tmp_path):
    """(The command refuses such an OUT as a usage error before it looks; the library says why.)"""
    out = tmp_path / "out"
    out.mkdir()
    (out / "rss.xml").write_text(BROKEN)
    out.chmod(0)
    script = ("import sys; from feedpub.validate import format_results, validate_output; "
              "print(format_results(validate_output(sys.argv[1])))")
    try:
        proc = subprocess.run(_unprivileged([sys.executable, "-c", script, str(out)]),
                              capture_output=True, text=True, timeout=60)
    finally:
        out.chmod(0o755)
    assert proc.stdout.splitlines() == [
        "FAIL . (unknown): 1 error(s)",
        f"    error: .: {UNREADABLE['folder']}",
        "1 files checked, 1 with errors",
    ], proc.stderr


def test_a_linked_folder_is_checked_and_a_link_back_up_ends_the_walk(tmp_path):
    out = tmp_path / "out"
    (out / "vi").mkdir(parents=True)
    (out / "vi" / "rss.xml").write_text(RSS, encoding="utf-8")
    (out / "vi" / "back").symlink_to(out)          # a loop: vi/back/vi/back/...
    elsewhere = tmp_path / "shared" / "en"         # a language folder kept on other storage
    elsewhere.mkdir(parents=True)
    (elsewhere / "rss.xml").write_text(RSS.replace(">vi<", ">en<"), encoding="utf-8")
    (out / "en").symlink_to(elsewhere)
    results = validate_output(out)
    assert [(r.path, r.kind, r.errors) for r in results] == [("en/rss.xml", "rss", []), ("vi/rss.xml", "rss", [])]
