"""The command as an operator meets it: options from the environment, plain error lines off a terminal,
validate's exit codes and --quiet, and a summary that counts in words."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import typer

from conftest import NOW_ARG, ROOT, record, run_cli, write_jsonl
from feedpub import cli
from feedpub.pipeline import BuildReport, FeedReport

COMMANDS = ("build", "check", "serve", "validate")


def options_of(command: str):
    """Every option and argument of a command, as the real CLI declares them (help excepted)."""
    group = typer.main.get_command(cli.app)
    return [p for p in group.commands[command].params if p.name != "help"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_option_has_its_environment_variable_shown_in_help(command):
    """Generated from the commands' own parameter lists: an option added later is covered too."""
    params = options_of(command)
    assert params
    result = run_cli(command, "--help")
    helptext = " ".join(result.stdout.split())
    for param in params:
        assert param.envvar == f"FEEDPUB_{param.name.upper()}", param.name
        assert f"env var: {param.envvar}" in helptext, param.name


def test_flag_beats_environment_beats_default(site, tmp_path):
    env_out, flag_out = tmp_path / "from-env", tmp_path / "from-flag"
    env = dict(os.environ, FEEDPUB_DATA=str(site), FEEDPUB_OUT=str(env_out), FEEDPUB_NOW=NOW_ARG, FEEDPUB_QUIET="1")
    result = subprocess.run([sys.executable, "-m", "feedpub", "build"], env=env, capture_output=True, text=True,
                            cwd=tmp_path, timeout=120)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert (env_out / "vi" / "rss.xml").is_file()
    result = subprocess.run([sys.executable, "-m", "feedpub", "build", "--out", str(flag_out)], env=env,
                            capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 0 and (flag_out / "vi" / "rss.xml").is_file()
    assert not (tmp_path / "public").exists()                       # the default was never used


def test_a_usage_error_off_a_terminal_is_one_plain_line():
    result = run_cli("build", "--frobnicate")
    assert result.returncode == 2
    assert result.stderr == ("feedpub: build: No such option: --frobnicate (Possible options: --strict) "
                             "(see 'feedpub build --help')\n")
    bad = run_cli("build", "--wait", "-3")
    assert bad.returncode == 2
    assert bad.stderr.splitlines() == [
        "feedpub: build: Invalid value for '--wait' (env var: 'FEEDPUB_WAIT'): -3 is not a number of seconds from 0 to 86400 "
        "(see 'feedpub build --help')"]


def test_a_usage_error_on_a_terminal_keeps_its_frame():
    import pty
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(ROOT)
        os.execv(sys.executable, [sys.executable, "-m", "feedpub", "build", "--frobnicate"])
    output = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 2
    assert "No such option" in output.decode() and "╭" in output.decode()


def test_validate_exit_codes_follow_build(tmp_path):
    missing = run_cli("validate", tmp_path / "nowhere")
    assert missing.returncode == 3
    assert missing.stderr == f"feedpub: {tmp_path / 'nowhere'}: is not a directory (expected the output directory holding the feeds)\n"
    assert run_cli("build", "--data", tmp_path / "nowhere").returncode == 3          # the same status as build's


def test_validate_quiet_prints_nothing_when_valid_and_only_the_failures_otherwise(tmp_path):
    out = tmp_path / "out"
    assert run_cli("build", "--out", out, "--now", NOW_ARG, "--quiet").returncode == 0
    assert (lambda r: (r.returncode, r.stdout, r.stderr))(run_cli("validate", out, "--quiet")) == (0, "", "")
    rss = out / "vi" / "rss.xml"
    rss.write_bytes(rss.read_bytes().replace(b"<title>", b"<titl>", 1))
    result = run_cli("validate", out, "--quiet")
    assert (result.returncode, result.stdout) == (1, "")
    lines = result.stderr.splitlines()
    assert lines[0].startswith("FAIL vi/rss.xml (")
    assert lines[-1] == f"feedpub: 1 file with errors under {out}"
    assert not any(line.startswith("OK ") for line in lines)


def test_one_item_is_one_item(fixture_site, tmp_path):
    site = fixture_site
    for path in (site / "articles").glob("*"):
        path.unlink()
    write_jsonl(site / "articles" / "one.jsonl", record(id="only", categories=["Chính trị"]))
    out = tmp_path / "out"
    result = run_cli("build", "--data", site, "--out", out, "--now", NOW_ARG)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert f"{out}/vi/rss.xml: 1 item, updated" in lines
    assert f"{out}/en/rss.xml: 0 items, updated" in lines
    assert "1 category feed (3 files updated)" in lines
    assert re.fullmatch(r"1 record, 1 record file read, 0 rejected, \d+ files updated", lines[-1])


def test_the_summary_counts_database_rows_as_well_as_record_files(tmp_path):
    report = BuildReport(records=3, files_read=0, source_rows=3, files_changed=12, feeds=[
        FeedReport("vi/rss.xml", 1, True, "vi", None, "rss", 1.0)])
    assert cli.summary_lines(report, tmp_path)[-1] == "3 records, 0 record files read, 3 database rows read, 0 rejected, 12 files updated"
    report.source_rows = 1
    assert "1 database row read" in cli.summary_lines(report, tmp_path)[-1]


def test_an_output_path_holding_control_characters_is_escaped_in_the_summary(site, tmp_path):
    out = tmp_path / "out\x1b[31mred\x07"
    result = run_cli("build", "--data", site, "--out", out, "--now", NOW_ARG)
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert f"{tmp_path}/out\\x1b[31mred\\x07/vi/rss.xml: 10 items, updated" in result.stdout.splitlines()


def test_shell_completion_is_on_and_completes_commands_and_options():
    helptext = run_cli("--help").stdout
    assert "--install-completion" in helptext and "--show-completion" in helptext
    env = dict(os.environ, _FEEDPUB_COMPLETE="complete_bash", COMP_WORDS="feedpub bu", COMP_CWORD="1")
    done = subprocess.run([sys.executable, "-m", "feedpub"], env=env, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout.split()) == (0, ["build"])
    env.update(COMP_WORDS="feedpub build --me", COMP_CWORD="2")
    done = subprocess.run([sys.executable, "-m", "feedpub"], env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["--metrics"]
