"""Tell systemd how a long-running process is doing: sd_notify(3)'s protocol, without a library.

A service of Type=notify gets the path of a datagram socket in $NOTIFY_SOCKET (an abstract socket
when it starts with "@"); each message is one datagram of NAME=value lines: READY=1 once the
service is up, WATCHDOG=1 at least every half of $WATCHDOG_USEC when the unit sets WatchdogSec=,
STATUS=… for `systemctl status`, RELOADING=1 and STOPPING=1. Outside systemd (no $NOTIFY_SOCKET)
every call does nothing, so the same code runs in a terminal.
"""
from __future__ import annotations

import os
import socket
import time
from typing import Mapping

__all__ = ["Notifier"]


class Notifier:
    """The service manager's socket, if there is one, and the watchdog interval it asks for."""

    def __init__(self, environ: Mapping[str, str] | None = None):
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET") or ""
        if address.startswith("@"):
            address = "\0" + address[1:]              # Linux's abstract namespace
        self.address = address or None
        self.watchdog: float | None = None          # seconds between two WATCHDOG=1, or None
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        if usec.isdigit() and int(usec) > 0 and (not pid or pid == str(os.getpid())):
            self.watchdog = int(usec) / 1e6 / 2
        self._socket: socket.socket | None = None
        self._last_ping = time.monotonic()

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, **fields: str | int) -> bool:
        """One datagram of NAME=value lines (READY=1, STATUS=…); False when there is no manager, it cannot
        be reached, or its socket is full. Never waits: the kernel queues only a few datagrams for a
        socket nobody reads, and a stuck manager must not stop the publishing (nor is a notification
        worth failing the service for)."""
        if self.address is None:
            return False
        text = "\n".join(f"{name}={' '.join(str(value).split())}" for name, value in fields.items())
        try:
            if self._socket is None:
                self._socket = socket.socket(socket.AF_UNIX,
                                             socket.SOCK_DGRAM | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK)
            self._socket.sendto(text.encode("utf-8", "replace"), self.address)
        except OSError:                              # BlockingIOError among them: dropped
            return False
        if "WATCHDOG" in fields:
            self._last_ping = time.monotonic()
        return True

    def ping_due(self, now: float | None = None) -> float | None:
        """Seconds until the next WATCHDOG=1 is due (0: now), or None without a watchdog."""
        if self.watchdog is None or self.address is None:
            return None
        return max(0.0, self._last_ping + self.watchdog - (time.monotonic() if now is None else now))

    def ping(self) -> None:
        """WATCHDOG=1 when half the interval has passed since the last one (cheap to call often)."""
        if self.ping_due() == 0.0:
            self.send(WATCHDOG=1)

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
