"""Rebuild OUT the moment the site or its database changes: the one watcher behind `feedpub watch`
and `feedpub serve --watch`.

One loop waits, in select(), on everything that can call for a rebuild, and does nothing else:

- **files**: kernel notifications for every folder of the site (inotify.py; a once-a-second
  comparison where the system has none), feedpub.toml read again when it changes;
- **PostgreSQL**: the `[source] notify_channel` LISTENed to (database/listen.py), so a commit is
  seen at once; a database without one (MySQL/MariaDB, SQLite, PostgreSQL without the trigger) is
  asked every DATABASE_SECONDS whether a feed would change (the build's no-op check: the
  selection's fingerprint), and so is PostgreSQL while its listener is reconnecting;
- **the clock**: the next scheduled article's `published` (the build reports it: next_due), slept
  until rather than polled for, and a no-op check every HEARTBEAT_SECONDS with nothing happening
  (the metrics stay fresh for the "not running" alert; anything no notification announced is still
  published within that time);
- **signals** (`feedpub watch`, in the main thread): SIGTERM or SIGINT ends the watching once the
  current rebuild has published (exit 0; a second one interrupts it: 143/130, nothing half-published),
  SIGHUP reads feedpub.toml again.

A burst of events is one rebuild: it starts DEBOUNCE_SECONDS after the last event, and never later than
DEBOUNCE_LIMIT after the first (50 ms and 250 ms: an editor's save or a transaction's rows arrive
within milliseconds, and a rebuild takes a few hundred, so the window costs little of the one-second
target). Events during a rebuild make the next one. Failures (rebuild.py) are said once and retried on
the next change or after a capped backoff (RETRY_FIRST doubling to RETRY_MAX); a lost database
listener is connected again on the same schedule, then the fingerprint is checked, so that no change
made while it was away is missed. Under systemd (sdnotify.py) it sends READY=1 after the first
rebuild, WATCHDOG=1 from the loop and during long rebuilds, and STATUS= with the last rebuild.
"""
from __future__ import annotations

import os
import select
import signal
import threading
import time
from pathlib import Path
from typing import Callable

from . import progress
from .errors import ConfigError, SourceError
from .inotify import POLL_SECONDS, Changed, site_events
from .outcome import EXIT_FAILED, EXIT_OK, Interrupted
from .pipeline import DEFAULT_WAIT
from .rebuild import Rebuilder
from .sdnotify import Notifier

__all__ = ["DATABASE_SECONDS", "DEBOUNCE_LIMIT", "DEBOUNCE_SECONDS", "HEARTBEAT_SECONDS", "POLL_SECONDS",
           "SiteWatcher", "Watcher", "run"]

DEBOUNCE_SECONDS = 0.05     # quiet time after the last event of a burst before the rebuild starts
DEBOUNCE_LIMIT = 0.25       # ... and never later than this after its first event
DATABASE_SECONDS = 5.0      # a database that sends no notifications is asked this often whether a feed would change
HEARTBEAT_SECONDS = 300.0   # with nothing happening, a no-op check this often (fresh metrics; a safety net)
RETRY_FIRST = 0.5           # a failed rebuild or a lost listener is tried again after this, doubling ...
RETRY_MAX = 30.0            # ... up to this
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _backoff(tries: int) -> float:
    """Seconds before the next try after `tries` failures in a row: RETRY_FIRST, doubling, capped."""
    return min(RETRY_MAX, RETRY_FIRST * 2 ** (tries - 1))


class Watcher(Rebuilder):
    """The loop: a Rebuilder driven by files, the database, the clock and signals (see the module)."""

    def __init__(self, site_dir: Path, out_dir: Path, *, interval: float = POLL_SECONDS,
                 database_interval: float = DATABASE_SECONDS, heartbeat: float = HEARTBEAT_SECONDS,
                 notifier: Notifier | None = None, **rebuild):
        super().__init__(site_dir, out_dir, **rebuild)
        self.interval = interval                 # the fallback's comparison period (no kernel notifications)
        self.database_interval = database_interval
        self.heartbeat = heartbeat
        self.notifier = notifier or Notifier({})
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._events = None                      # inotify.SiteEvents or PolledSite
        self._listener = None                    # database.listen.Listener
        self._listen_error: str | None = None
        self._pending: Changed | None = None     # what changed since the last rebuild began
        self._first_event = self._last_event = 0.0
        self._reload_asked = self._reloading = False
        self._recheck = False                    # the fingerprint is checked at once (a listener came back)
        self._due: float | None = None           # wall clock: the next scheduled article
        self._retry_at: float | None = None
        self._retries = 0
        self._listen_at = 0.0
        self._listen_retries = 0
        self._asked = self._polled = self._last_build = time.monotonic()

    # --- starting and stopping ---

    def start(self) -> None:
        """Watch in a thread of its own (the preview server's way); stop() ends it."""
        self._open()
        self._thread = threading.Thread(target=self._loop, name="feedpub-watch", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _wake(self) -> None:
        try:
            os.write(self._wake_w, b"\0")
        except OSError:                          # the pipe is full (the loop wakes anyway), or closed
            pass

    def _open(self) -> None:
        ignore = [self.out_dir, self._state_file(), *(p for p in (self.report_path, self.metrics_path) if p)]
        self._events = site_events(self.site_dir, ignore)
        reason = getattr(self._events, "reason", "")
        if reason:
            self.note(f"feedpub: {reason}")
            self._events.interval = self.interval
        self._connect_listener()

    def close(self) -> None:
        self._close_listener()
        if self._events is not None:
            self._events.close()
            self._events = None
        super().close()
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass
        self._wake_r = self._wake_w = -1
        self.notifier.close()

    # --- the database listener ---

    def load(self) -> bool:
        """feedpub.toml read again; a new database or channel gets a listener of its own."""
        before = self._listening_to()
        loaded = super().load()
        if loaded and self._listening_to() != before:
            self._close_listener()
            self._listen_at, self._listen_retries, self._listen_error = 0.0, 0, None
        return loaded

    def _listening_to(self) -> tuple | None:
        source = self._channel()
        return None if source is None else (source.url, source.url_env, source.notify_channel)

    def _channel(self):
        source = self.config.source if self.config is not None else None
        return source if source is not None and source.notify_channel is not None else None

    def _connect_listener(self) -> None:
        source = self._channel()
        if source is None or self._listener is not None:
            return
        from .database.listen import Listener
        try:
            self._listener = Listener(source.resolve())
        except (SourceError, ConfigError) as exc:
            self._listener_lost(str(exc))
            return
        if self._listen_error is not None:
            self.note(f"feedpub: listening on {source.notify_channel} again")
        self._listen_error, self._listen_retries = None, 0
        if self.builds:
            self._recheck = True                 # whatever was committed while nobody listened

    def _listener_lost(self, message: str) -> None:
        self._close_listener()
        self._listen_retries += 1
        self._listen_at = time.monotonic() + _backoff(self._listen_retries)
        if message != self._listen_error:
            self.note(f"feedpub: {message}; the database is asked every {self.database_interval:g} s "
                      "until listening works again")
        self._listen_error = message

    def _close_listener(self) -> None:
        if self._listener is not None:
            listener, self._listener = self._listener, None
            listener.close()

    # --- the loop ---

    def _changed(self, what: Changed, *, at_once: bool = False) -> None:
        now = time.monotonic()
        if self._pending is None:
            self._first_event = now - (DEBOUNCE_LIMIT if at_once else 0.0)
        self._last_event = now - (DEBOUNCE_SECONDS if at_once else 0.0)
        self._pending = what | self._pending

    def _debounced(self) -> float:
        """When the pending burst's rebuild is due: a quiet moment after its last event, or the
        limit after its first."""
        return min(self._last_event + DEBOUNCE_SECONDS, self._first_event + DEBOUNCE_LIMIT)

    def _polling_database(self) -> bool:
        return (self.config is not None and self.config.source is not None
                and (self._channel() is None or self._listener is None))

    def _deadlines(self) -> list[float]:
        """When something is due, on the monotonic clock."""
        now = time.monotonic()
        found = [self._last_build + self.heartbeat]
        if self._pending is not None:
            found.append(self._debounced())
        if self._recheck:
            found.append(now)
        if self._due is not None:
            found.append(now + max(0.0, self._due - time.time()) + 0.01)
        if self._retry_at is not None:
            found.append(self._retry_at)
        if self._polling_database():
            found.append(self._asked + self.database_interval)
        if self._channel() is not None and self._listener is None:
            found.append(self._listen_at)
        if self._events is not None and self._events.fileno() is None:
            found.append(self._polled + self._events.interval)
        ping = self.notifier.ping_due()
        if ping is not None:
            found.append(now + ping)
        return found

    def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    self.step()
                except Exception as exc:         # a bug must not end the watching: said once, then a pause
                    self.failed([f"feedpub: internal error: {type(exc).__name__}: {exc} "
                                 "(set FEEDPUB_DEBUG=1 for details)"])
                    self._stop.wait(RETRY_MAX)
        finally:
            self.close()

    def step(self) -> None:
        """Wait for the next thing to do, and do it."""
        timeout = max(0.0, min(self._deadlines()) - time.monotonic())
        waiting = [self._wake_r] + [x for x in (self._events, self._listener) if x is not None
                                    and x.fileno() is not None]
        try:
            ready = select.select(waiting, [], [], timeout)[0]
        except InterruptedError:
            ready = []
        if self._wake_r in ready:
            try:
                while os.read(self._wake_r, 512):
                    pass
            except BlockingIOError:
                pass
        if self._stop.is_set():
            return
        now = time.monotonic()
        if self._events is not None and (self._events in ready or (
                self._events.fileno() is None and now >= self._polled + self._events.interval)):
            self._polled = now
            found = self._events.read()
            if found is not None:
                self._changed(found)
        if self._listener is not None and self._listener in ready:
            try:
                if self._listener.drain():
                    self._changed(Changed(records=True))
            except SourceError as exc:
                self._listener_lost(str(exc))
        if self._reload_asked:
            self._reload_asked = False
            self._changed(Changed(config=True), at_once=True)
        if self._channel() is not None and self._listener is None and now >= self._listen_at:
            self._connect_listener()
        self._act(time.monotonic())
        self.notifier.ping()

    def _act(self, now: float) -> None:
        """The one rebuild that is due now, if any."""
        if self._pending is not None and now >= self._debounced():
            what, self._pending = self._pending, None
            if what.config:
                loaded = self.load()
                self._connect_listener()
                if loaded or what.records:
                    self._rebuild()
                if self._reloading:                  # SIGHUP's reload is done (systemd waits for this)
                    self._reloading = False
                    self.notifier.send(READY=1, STATUS=self.last_line)
                return
            self._rebuild()
        elif self._recheck:
            self._recheck = False
            self._rebuild(quiet_if_unchanged=True)
        elif self._due is not None and time.time() >= self._due:
            self._rebuild(quiet_if_unchanged=True)
        elif self._retry_at is not None and now >= self._retry_at:
            self._rebuild()
        elif self._polling_database() and now >= self._asked + self.database_interval:
            self._rebuild(quiet_if_unchanged=True, write_if_unchanged=False)
        elif now >= self._last_build + self.heartbeat:
            self._rebuild(quiet_if_unchanged=True)

    def _rebuild(self, **how) -> None:
        with progress.watching(_WatchdogPings(self.notifier) if self.notifier.watchdog else None):
            self.rebuild(**how)

    def rebuild(self, **how):
        """One rebuild (rebuild.Rebuilder.rebuild), and what its result schedules: a retry after a
        failure, a sleep until the next scheduled article after a success."""
        self._asked = self._last_build = time.monotonic()
        started = time.time()
        report = super().rebuild(**how)
        if report is None:
            self._retries += 1
            self._retry_at = time.monotonic() + _backoff(self._retries)
        else:
            self._retries, self._retry_at = 0, None
            due = report.next_due
            self._due = due if due is not None and due > started else None
        self.notifier.send(STATUS=self.last_line)
        self._wake()                             # a rebuild from another thread: the loop sees its timers
        return report

    # --- as a command ---

    def run_until_stopped(self) -> int:
        """`feedpub watch`: the first build, READY=1, then the loop until SIGTERM or SIGINT (in the main
        thread): exit status 0. A configuration that cannot be used at the start (there is no good one
        to keep) is said, and is exit status 3 at once."""
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (*STOP_SIGNALS, signal.SIGHUP)}
        wakeup = signal.set_wakeup_fd(self._wake_w, warn_on_full_buffer=False)
        try:
            if not self.load():
                self.rebuild()                       # the failed start in --report and --metrics
                return EXIT_FAILED
            self._open()                             # before the first build: nothing it misses is lost
            self._rebuild()
            self.notifier.send(READY=1, STATUS=self.last_line)
            while not self._stop.is_set():
                self.step()
            self.notifier.send(STOPPING=1)
            return EXIT_OK
        finally:
            signal.set_wakeup_fd(wakeup)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.close()

    def _on_signal(self, signum, frame) -> None:
        if signum == signal.SIGHUP:
            self._reload_asked = self._reloading = True
            self.notifier.send(RELOADING=1)
            return
        if self._stop.is_set():                      # the second one: stop now (the rebuild cleans up)
            for sig in STOP_SIGNALS:
                signal.signal(sig, signal.SIG_IGN)
            raise Interrupted(signum)
        self._stop.set()


class _WatchdogPings:
    """A rebuild's progress (progress.py) keeps systemd's watchdog fed: a long full build is alive."""

    def __init__(self, notifier: Notifier):
        self._notifier = notifier

    def stage(self, name: str) -> None:
        self._notifier.ping()

    def read(self, records: int) -> None:
        self._notifier.ping()

    def wrote(self, files: int) -> None:
        self._notifier.ping()


class SiteWatcher(Watcher):
    """The preview server's watcher (serve.py): build with rebuild(), then start() and stop();
    everything it says goes to log."""

    def __init__(self, site_dir: Path, out_dir: Path, *, interval: float = POLL_SECONDS,
                 log: Callable[[str], None] | None = None, build: Callable | None = None,
                 database_interval: float = DATABASE_SECONDS):
        super().__init__(site_dir, out_dir, interval=interval, database_interval=database_interval, log=log,
                         build=build)


def run(site_dir: str | os.PathLike = "data", out_dir: str | os.PathLike = "public", *,
        state_path: str | os.PathLike | None = None, wait: float = DEFAULT_WAIT, strict: bool = False,
        full: bool = False, quiet: bool = False, report: str | os.PathLike | None = None,
        metrics: str | os.PathLike | None = None, log: Callable[[str], None] | None = None,
        say: Callable[[str], None] | None = None) -> int:
    """Build SITE into OUT, then rebuild it whenever the site or its database changes, until SIGTERM or
    SIGINT (in the main thread): see the module. log: where problems go (one line each); say: where
    the rebuilds are told (not with quiet). Returns the exit status: 3 when feedpub.toml cannot be
    used at the start (exit status 3, said in one line); every later failure is said and retried: 0 once stopped."""
    watcher = Watcher(Path(site_dir), Path(out_dir), state_path=state_path, wait=wait, strict=strict, full=full,
                      quiet=quiet, report=Path(report) if report else None, metrics=Path(metrics) if metrics else None,
                      log=log, say=say, notifier=Notifier())
    return watcher.run_until_stopped()
