"""From the README's install line to a timer that publishes: the documented install (pipx, from the
checkout, with the database extra), the shipped systemd units checked by `systemd-analyze verify`
against the very file the install made, the cron line run under cron's own environment, and a wheel
installed into a fresh virtualenv and run from outside the source tree.

These install real packages (PyPI through pip, reusing pip's cache) and need Debian's pipx and systemd:
a missing tool skips, unless FEEDPUB_REQUIRE_DEPLOY=1 (as in CI) makes it a failure.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import NOW_ARG, ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
DEPLOY = ROOT / "deploy"
CHECKOUT = "/usr/local/src/feedpub"          # where the README's install line expects the checkout


def need(tool: str) -> str:
    found = shutil.which(tool)
    if found is None:
        if os.environ.get("FEEDPUB_REQUIRE_DEPLOY") == "1":
            pytest.fail(f"FEEDPUB_REQUIRE_DEPLOY=1 but {tool} is not installed", pytrace=False)
        pytest.skip(f"{tool} is not installed (apt-get install {tool}); set FEEDPUB_REQUIRE_DEPLOY=1 to fail instead")
    return found


def section(title: str) -> str:
    start = README.index(f"## {title}\n")
    return README[start:README.index("\n## ", start + 1)]


def fenced(text: str, kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", text, re.S)


def install_line() -> str:
    """The pipx command of the README's install block."""
    block = fenced(section("Installing on a server"), "sh")[0]
    return next(line for line in block.splitlines() if " pipx install " in f" {line}")


def test_the_readme_shows_every_deploy_file_exactly():
    shown = {block for kind in ("ini", "cron", "sh") for block in fenced(README, kind)}
    files = sorted(DEPLOY.iterdir())
    assert [p.name for p in files] == ["feedpub-watch.service", "feedpub.cron", "feedpub.service", "feedpub.timer"]
    for path in files:
        assert path.read_text(encoding="utf-8") in shown, path.name


def test_every_cron_line_in_the_readme_runs_feedpub_by_the_path_the_install_gives():
    """cron's PATH is /usr/bin:/bin: a bare `feedpub` is `not found` there."""
    bin_dir = re.search(r"PIPX_BIN_DIR=(\S+)", install_line()).group(1)
    lines = [line for block in fenced(README, "cron") for line in block.splitlines()
             if line and not line.startswith("#") and "=" not in line.split()[0]]
    assert lines
    for line in lines:
        command = line.split(" cd ", 1)[1]                  # after the schedule (and /etc/cron.d's user)
        assert re.search(r"(^|[\s;&|(])feedpub\s", command) is None, line
        assert f"{bin_dir}/feedpub build" in line, line


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The README's install line, run with pipx's folders under a temporary directory and the checkout
    where it is; the path of the `feedpub` it installed."""
    need("pipx")
    base = tmp_path_factory.mktemp("pipx")
    words = shlex.split(install_line())
    env = dict(os.environ)
    command = []
    for word in words:
        if re.fullmatch(r"[A-Z_]+=.*", word) and not command:
            name = word.split("=", 1)[0]
            env[name] = str(base / name.lower())
        else:
            command.append(word.replace(CHECKOUT, str(ROOT)))
    assert command[:2] == ["pipx", "install"] and command[2].endswith("[postgresql]")
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    program = base / "pipx_bin_dir" / "feedpub"
    version = subprocess.run([str(program), "--version"], capture_output=True, text=True, cwd="/", timeout=60)
    assert version.stdout.startswith("feedpub "), version
    venv_python = Path(os.path.realpath(program)).parent / "python"
    assert subprocess.run([str(venv_python), "-c", "import sqlalchemy, psycopg"], timeout=60).returncode == 0
    return program


def test_systemd_analyze_verifies_the_shipped_units_against_the_installed_program(installed, tmp_path):
    analyze = need("systemd-analyze")
    root = tmp_path / "root"
    units = root / "etc" / "systemd" / "system"
    units.mkdir(parents=True)
    for name in UNITS:
        shutil.copy(DEPLOY / name, units / name)
    shutil.copytree("/usr/lib/systemd/system", root / "usr" / "lib" / "systemd" / "system", symlinks=True)
    exec_start = re.search(r"^ExecStart=(\S+)", (DEPLOY / "feedpub.service").read_text(), re.M).group(1)
    assert exec_start == re.search(r"PIPX_BIN_DIR=(\S+)", install_line()).group(1) + "/feedpub"

    def verify():
        return subprocess.run([analyze, "verify", f"--root={root}", *UNITS], capture_output=True, text=True,
                              timeout=120)

    missing = verify()                                    # the check is real: without the program it fails
    assert missing.returncode != 0 and f"{exec_start} is not executable" in missing.stderr
    target = root / exec_start.lstrip("/")
    target.parent.mkdir(parents=True)
    shutil.copy2(os.path.realpath(installed), target)    # the very file the install made, at its path
    for name in UNITS:                                    # every other program a unit runs (ExecReload=...), as installed
        for program in re.findall(r"^Exec\w+=[-@:+!]*(/\S+)", (DEPLOY / name).read_text(), re.M):
            if program != exec_start:
                (root / program.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(os.path.realpath(program), root / program.lstrip("/"))
    result = verify()
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    service = (DEPLOY / "feedpub.service").read_text()
    for setting in ("EnvironmentFile=", "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes"):
        assert setting in service
    writable = re.search(r"^ReadWritePaths=(.*)$", service, re.M).group(1).split()
    out = re.search(r"--out (\S+)", exec_start_line(service)).group(1)
    metrics = re.search(r"--metrics (\S+)", exec_start_line(service)).group(1)
    assert out in writable and os.path.dirname(metrics) in writable


UNITS = ("feedpub.service", "feedpub.timer", "feedpub-watch.service")


def settings(unit: str) -> dict[str, str]:
    """NAME -> value of a unit file's [Service] lines."""
    text = (DEPLOY / unit).read_text(encoding="utf-8")
    body = text[text.index("[Service]\n"):].split("\n[", 1)[0]
    return dict(line.split("=", 1) for line in body.splitlines()[1:] if "=" in line and not line.startswith("#"))


def test_the_watch_unit_is_the_timers_service_hardened_alike_supervised_and_restarted():
    """Every setting of the oneshot service (user, secrets, hardening, writable paths) is the watch unit's
    too, with its command `watch` instead of `build`; and it is a supervised service."""
    oneshot, watch = settings("feedpub.service"), settings("feedpub-watch.service")
    for name, value in oneshot.items():
        if name == "Type":
            continue
        expected = value.replace("/feedpub build ", "/feedpub watch ") if name == "ExecStart" else value
        assert watch.get(name) == expected, name
    assert watch["Type"] == "notify" and watch["Restart"] == "on-failure" and watch["KillMode"] == "mixed"
    assert re.fullmatch(r"[0-9]+min", watch["WatchdogSec"])
    assert watch["ExecReload"] == "/bin/kill -HUP $MAINPID"


def exec_start_line(service: str) -> str:
    return re.search(r"^ExecStart=(.*)$", service, re.M).group(1)


def test_the_cron_line_publishes_under_crons_environment(installed, tmp_path):
    """The shipped cron line, its paths moved under a temporary folder, run as cron runs it:
    env -i PATH=/usr/bin:/bin SHELL=/bin/sh, from /; it reads the secrets file, publishes, and writes
    the report and a metric per feed."""
    from test_monitoring import read_metrics, read_report
    line = (DEPLOY / "feedpub.cron").read_text(encoding="utf-8").splitlines()[-1]
    fields = line.split(None, 6)
    assert fields[5] == "feedpub"                          # /etc/cron.d's user field
    command = fields[6]
    moved = {"/srv/news": tmp_path / "srv", "/usr/local/bin/feedpub": installed, "/var/www/feeds": tmp_path / "www",
             "/var/lib/feedpub": tmp_path / "state", "/var/lib/prometheus/node-exporter": tmp_path / "prom",
             "/etc/feedpub/feedpub.env": tmp_path / "feedpub.env"}
    for old in sorted(moved, key=len, reverse=True):
        assert old in command, old
        command = command.replace(old, str(moved[old]))
    for folder in ("www", "state", "prom"):
        (tmp_path / folder).mkdir()
    assert subprocess.run([str(installed), "init", str(tmp_path / "srv" / "site")], capture_output=True,
                          timeout=60).returncode == 0
    (tmp_path / "feedpub.env").write_text(f"FEEDPUB_NOW={NOW_ARG}\n", encoding="utf-8")     # read, or the clock is used
    run = subprocess.run(["env", "-i", "PATH=/usr/bin:/bin", "SHELL=/bin/sh", "/bin/sh", "-c", command], cwd="/",
                         capture_output=True, text=True, timeout=300)
    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")
    report = read_report(tmp_path / "state" / "last-run.json")
    assert report["exit_status"] == 0
    assert report["started"].startswith("20")
    feeds = sorted(f["path"] for f in report["feeds"])
    assert feeds and all((tmp_path / "www" / path).is_file() for path in feeds)
    samples = read_metrics(tmp_path / "prom" / "feedpub.prom")
    assert sorted(labels["feed"] for labels, _ in samples["feedpub_feed_items"]) == feeds
    assert len(samples["feedpub_feed_newest_item_timestamp_seconds"]) == len(feeds)


def test_a_wheel_installs_with_the_database_extra_and_runs_outside_the_source_tree(tmp_path):
    dist = tmp_path / "dist"
    built = subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    wheel = next(dist.glob("feedpub-*-py3-none-any.whl"))
    venv = tmp_path / "venv"
    assert subprocess.run([sys.executable, "-m", "venv", str(venv)], timeout=120).returncode == 0
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", f"{wheel}[postgresql]"],
                         capture_output=True, text=True, timeout=600)
    assert pip.returncode == 0, pip.stderr
    program = str(venv / "bin" / "feedpub")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    version = subprocess.run([program, "--version"], capture_output=True, text=True, cwd=elsewhere, timeout=60)
    assert version.stdout.startswith("feedpub ")
    for args in (["init", "site"], ["build", "--data", "site", "--out", "public", "--quiet"], ["validate", "public", "--quiet"]):
        done = subprocess.run([program, *args], capture_output=True, text=True, cwd=elsewhere, timeout=120)
        assert done.returncode == 0, (args, done.stderr)
    probe = ("import feedpub, sqlalchemy, psycopg; from feedpub.runreport import SCHEMA_PATH; "
             "from feedpub.scaffold import postgresql_sql; print(feedpub.__file__, SCHEMA_PATH.is_file(), "
             "bool(postgresql_sql()))")
    seen = subprocess.run([str(venv / "bin" / "python"), "-c", probe], capture_output=True, text=True, cwd=elsewhere,
                          timeout=60)
    path, schema, sql = seen.stdout.split()
    assert path.startswith(str(venv)) and (schema, sql) == ("True", "True")
    assert json.loads((elsewhere / "public" / "en" / "feed.json").read_bytes())["items"]


def test_every_install_command_a_message_names_is_for_this_installation():
    """No message names `pip install 'feedpub[…]'` (there is no such package to download); the hint names
    this interpreter and the extra's own requirements, as the installed metadata lists them."""
    import tomllib
    from feedpub.extras import extra_requirements, install_hint
    package = ROOT / "feedpub"
    offenders = [str(p.relative_to(ROOT)) for p in package.rglob("*.py") if "install 'feedpub[" in p.read_text()]
    assert offenders == []
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for extra in ("postgresql", "mysql", "sqlite"):
        wanted = sorted(re.sub(r"\s+", "", r.split("#")[0]).lower() for r in declared[extra])
        assert sorted(_normalized(r) for r in extra_requirements(extra)) == sorted(_normalized(r) for r in wanted)
        assert install_hint(extra).startswith(f"{sys.executable} -m pip install ")


def _normalized(requirement: str) -> str:
    from packaging.requirements import Requirement
    parsed = Requirement(requirement)
    return f"{parsed.name.lower()}{sorted(parsed.extras)}{sorted(str(s) for s in parsed.specifier)}"


def test_the_alert_rules_use_metrics_and_labels_feedpub_writes():
    from feedpub.metrics import FEED_SERIES, RUN_SERIES
    rules = fenced(section("Monitoring"), "yaml")[0]
    exprs = re.findall(r"expr: (.*)", rules)
    assert len(exprs) == 3
    for expr in exprs:
        for name in re.findall(r"feedpub_[a-z_]+", expr):
            assert name in RUN_SERIES or name in FEED_SERIES, name
        for label in re.findall(r"(\w+)=\"", expr):
            assert label in ("out", "feed", "lang", "category", "format"), label
