"""The CDN purge hook: `[publish] purge_command`, run after a publish with the URLs of the files it
changed or removed, so that a CDN in front of the feeds drops its copies at once.

The command is run without a shell, the URLs added as its last arguments (in as many invocations as
needed to keep each command line under ARGUMENT_BYTES, as xargs does), after the lock is released,
each invocation within PURGE_TIMEOUT seconds. A command that fails, hangs or cannot start is a
warning: the feeds are published either way, and its output is quoted only in its last line.
"""
from __future__ import annotations

import subprocess
from typing import Sequence

from .text import printable

__all__ = ["ARGUMENT_BYTES", "PURGE_TIMEOUT", "purge"]

ARGUMENT_BYTES = 64 * 1024
PURGE_TIMEOUT = 60.0


def batches(urls: Sequence[str], budget: int = ARGUMENT_BYTES) -> list[list[str]]:
    """The URLs in runs whose total length (with a separator each) stays within budget."""
    runs: list[list[str]] = []
    size = budget + 1
    for url in urls:
        if size + len(url) + 1 > budget and (not runs or runs[-1]):
            runs.append([])
            size = 0
        runs[-1].append(url)
        size += len(url) + 1
    return runs


def purge(command: Sequence[str], urls: Sequence[str], *, timeout: float = PURGE_TIMEOUT) -> list[str]:
    """Run command with the URLs; the warnings to show (none when every invocation succeeded)."""
    warnings = []
    for run in batches(sorted(set(urls))):
        argv = [*command, *run]
        try:
            done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            warnings.append(f"purge_command {printable(command[0])}: did not finish within {timeout:g} s "
                            f"({len(run)} URLs); the CDN may serve the old files until they expire")
            continue
        except OSError as exc:
            warnings.append(f"purge_command {printable(command[0])}: cannot be run: {exc.strerror or exc}; the CDN "
                            "may serve the old files until they expire")
            return warnings
        if done.returncode != 0:
            said = (done.stderr or done.stdout).decode("utf-8", "replace").strip().splitlines()
            last = f": {printable(said[-1])}" if said else ""
            warnings.append(f"purge_command {printable(command[0])}: exited {done.returncode}{last} ({len(run)} "
                            "URLs); the CDN may serve the old files until they expire")
    return warnings
