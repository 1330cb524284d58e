"""One rebuild of a long-running process (`feedpub watch`, `serve --watch`): an ordinary build, with
its state kept warm between rebuilds, its outcome said once, and the monitoring files rewritten.

- **Warm.** The site's Config stays loaded until feedpub.toml changes (or SIGHUP): a broken one on
  reload is said in one line and the last good one stays in use. With a [source], one open
  DatabaseSource (its connection, its columns, the rows it last read with their hash) serves every
  rebuild, each in a new snapshot, reading in full only the rows that changed; a kept
  connection the server dropped is replaced once, at once, before anything is reported.
- **Ordinary.** Each rebuild is pipeline.build(): the same lock, atomic publish, manifest, WebSub pings
  after publishing, and `--report`/`--metrics` written by runreport.write_run_files, as a build
  command writes them (command "build"), after every rebuild that published or failed.
- **Said once.** A failure is one line (`feedpub: rebuild failed: …`, escaped as the command escapes
  its errors; `internal error: …` for a bug), and the same failure again is not repeated: the next
  line is the recovery (`rebuilt …`) or a different failure.
"""
from __future__ import annotations

import os
import stat
import time
import traceback
from pathlib import Path
from typing import Callable

from .config import CONFIG_NAME, Config, load_config
from .errors import ConfigError, FeedpubError, SourceError
from .outcome import EXIT_OK, EXIT_REJECTED, Outcome, interruption, of_exception
from .pipeline import DEFAULT_WAIT, STATE_NAME, BuildReport
from .runreport import Run, write_run_files
from .text import printable
from .version import __version__

__all__ = ["Rebuilder"]

Log = Callable[[str], None]


class Rebuilder:
    """Builds one site into one OUT, again and again, keeping what can be kept."""

    def __init__(self, site_dir: Path, out_dir: Path, *, state_path: Path | None = None, wait: float = DEFAULT_WAIT,
                 strict: bool = False, full: bool = False, report: Path | None = None, metrics: Path | None = None,
                 log: Log | None = None, say: Log | None = None, quiet: bool = False, build: Callable | None = None,
                 warm: bool = True):
        self.site_dir, self.out_dir = Path(site_dir), Path(out_dir)
        self.state_path = Path(state_path) if state_path is not None else None
        self.wait, self.strict, self.quiet, self.warm = wait, strict, quiet, warm
        self.report_path, self.metrics_path = report, metrics
        self.config: Config | None = None       # the last good configuration
        self.builds = 0
        self.last_error: str | None = None      # the failure said last (None after a success)
        self.last_report: BuildReport | None = None
        self.last_line = ""                     # what the last rebuild came to, for systemd's STATUS=
        self._log = log
        self._say = say or log
        self._custom_build = build              # a stand-in for pipeline.build(site, out) (tests)
        self._full_once = full
        self._source = None                     # the warm database.DatabaseSource

    # --- the configuration ---

    def load(self) -> bool:
        """Read feedpub.toml again; False (said in one line) when it cannot be used, the last good
        configuration, if any, staying in use."""
        path = self.site_dir / CONFIG_NAME
        try:
            kind = _not_regular(path)
            if kind is not None:            # reading it would block (a FIFO) or fail: say so, try again later
                raise ConfigError(f"{path}: is {kind} (expected a regular file)")
            config = load_config(self.site_dir)
        except FeedpubError as exc:
            kept = "; the last good configuration stays in use" if self.config is not None else ""
            self.failed([f"feedpub: {exc}{kept}"])
            return False
        if self.config is None or config.fingerprint != self.config.fingerprint:
            self.close_source()             # a new [source] (or none) is opened by the next rebuild
        self.config = config
        return True

    # --- one rebuild ---

    def rebuild(self, *, quiet_if_unchanged: bool = False, write_if_unchanged: bool = True) -> BuildReport | None:
        """Build once now. A failure is said once and returned as None; the previous feeds stay.
        quiet_if_unchanged: say nothing when no feed file changed (a periodic check);
        write_if_unchanged: rewrite --report and --metrics even when nothing changed."""
        started = time.time()
        clock = time.monotonic()
        run = Run("build", started, str(self.site_dir), str(self.out_dir))
        try:
            if self._custom_build is not None:
                report = self._custom_build(self.site_dir, self.out_dir)
            else:
                if self.config is None and not self.load():
                    self._write(run, Outcome(3, [self.last_error or ""]))
                    return None
                report = self._build()
        except Exception as exc:                # whatever ends a rebuild, the watching goes on ...
            stopped = interruption(exc)
            if stopped is not None:             # ... but a signal's cleanup that failed is still the signal
                raise stopped from None
            outcome = of_exception(exc, cache=str(self._state_file()))
            if os.environ.get("FEEDPUB_DEBUG") and not isinstance(exc, (FeedpubError, OSError)):
                self._emit(self._log, traceback.format_exc().rstrip())
            self.failed(outcome.lines)
            self._write(run, outcome)
            return None
        finally:
            self.builds += 1
        self._full_once = False
        run.result = report
        self.last_report = report
        recovered = self.last_error is not None
        self.last_error = None
        changed = len(report.changed)
        rejected = report.errors
        self.last_line = (f"rebuilt {self.out_dir}: {changed} feed files updated"
                          + (f", {len(rejected)} record(s) rejected" if rejected else "")
                          + f" in {time.monotonic() - clock:.2f} s")
        if not (quiet_if_unchanged and not changed and not recovered):
            if not self.quiet:
                self._emit(self._say, self.last_line)
            for line in rejected:
                self._emit(self._log, line)
        if write_if_unchanged or not report.skipped:
            self._write(run, Outcome(EXIT_REJECTED if rejected else EXIT_OK))
        return report

    def _build(self) -> BuildReport:
        from .pipeline import build
        config = self.config
        how = dict(state_path=self.state_path, wait=self.wait, strict=self.strict, full=self._full_once, config=config)
        if config.source is None or not self.warm:
            return build(self.site_dir, self.out_dir, **how)
        fresh = self._source is None
        if fresh:
            self._source = self._open_source()
        try:
            return build(self.site_dir, self.out_dir, source=self._source, **how)
        except SourceError:
            self.close_source()
            if fresh:
                raise
        self._source = self._open_source()      # the kept connection was gone (a restarted server): once more
        try:
            return build(self.site_dir, self.out_dir, source=self._source, **how)
        except SourceError:
            self.close_source()
            raise

    def _open_source(self):
        from .database import open_site_source
        return open_site_source(self.config)

    def close_source(self) -> None:
        if self._source is not None:
            source, self._source = self._source, None
            source.close()

    # --- saying it ---

    def failed(self, lines: list[str]) -> None:
        """A failed rebuild (or reload): its lines, the last as `feedpub: rebuild failed: …`, said
        unless the same failure was the last thing said."""
        lines = [printable(line) for line in lines if line]
        if not lines:
            return
        lines[-1] = lines[-1].replace("feedpub: ", "feedpub: rebuild failed: ", 1) if lines[-1].startswith(
            "feedpub: ") else f"feedpub: rebuild failed: {lines[-1]}"
        message = lines[-1].removeprefix("feedpub: rebuild failed: ")
        self.last_line = f"rebuild failed: {message}"
        if message == self.last_error:
            return
        self.last_error = message
        for line in lines:
            self._emit(self._log, line)

    def note(self, line: str) -> None:
        """One more line for the log (a lost database listener, say)."""
        self._emit(self._log, line)

    def _emit(self, sink: Log | None, line: str) -> None:
        """One printable line: a config error quoting ESC or BEL cannot drive the terminal."""
        if sink is not None:
            sink(printable(line))

    def _write(self, run: Run, outcome: Outcome) -> None:
        for line in write_run_files(run, outcome, time.time(), __version__, report=self.report_path,
                                    metrics=self.metrics_path):
            self._emit(self._log, line)

    def _state_file(self) -> Path:
        return self.state_path if self.state_path is not None else self.out_dir / STATE_NAME

    def close(self) -> None:
        self.close_source()


def _not_regular(path: Path) -> str | None:
    """What path is when it is there but not a regular file (a FIFO would block the build that reads it)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None                         # missing or unreadable: load_config says so itself
    if stat.S_ISREG(mode):
        return None
    return {stat.S_IFIFO: "a FIFO", stat.S_IFDIR: "a folder", stat.S_IFSOCK: "a socket",
            stat.S_IFCHR: "a device", stat.S_IFBLK: "a device"}.get(stat.S_IFMT(mode), "not a regular file")
