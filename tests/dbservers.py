"""Throwaway database servers for the tests and the benchmark: Debian's PostgreSQL and MariaDB.

A server runs from a fresh temporary directory on a free loopback port, as an
unprivileged user (PostgreSQL refuses to run as root; when the tests run as
root, the server runs as `nobody` through runuser), and is removed when stopped.
Nothing here touches a server the machine already runs.

`start_postgres()` / `start_mariadb()` return a running server, or raise
Unavailable with the reason (binaries missing, a start that failed: its log).
"""
from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

SERVER_USER = "nobody"            # who runs the server when the tests run as root
START_TIMEOUT = 60


class Unavailable(Exception):
    """This kind of server cannot be started here; the message says why."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_server_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    if shutil.which("runuser") is None:
        raise Unavailable("running as root and runuser is missing: cannot start a server as an unprivileged user")
    return ["runuser", "-u", SERVER_USER, "--", *argv]


def _private_dir(prefix: str, path: Path | None = None) -> Path:
    """A directory the server user owns (and only it and us can enter): new, or `path`, made if missing."""
    if path is None:
        path = Path(tempfile.mkdtemp(prefix=prefix))
    else:
        path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        entry = pwd.getpwnam(SERVER_USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    path.chmod(0o700)
    return path


def _run(argv: list[str], what: str, timeout: float = START_TIMEOUT, **kw) -> str:
    try:
        done = subprocess.run(_as_server_user(argv), capture_output=True, text=True, timeout=timeout, **kw)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Unavailable(f"{what}: {exc}") from None
    if done.returncode != 0:
        raise Unavailable(f"{what} failed ({done.returncode}): {(done.stderr or done.stdout).strip()[-2000:]}")
    return done.stdout


# --- PostgreSQL ----------------------------------------------------------------------------------


def postgres_bin() -> Path | None:
    """The newest Debian PostgreSQL binaries (/usr/lib/postgresql/VERSION/bin), if installed."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0)
    return Path(found[-1]).parent if found else None


@dataclass
class PostgresServer:
    bin: Path
    dir: Path
    port: int
    password: str                                  # the superuser's ("postgres")
    settings: dict = field(default_factory=dict)

    @property
    def data(self) -> Path:
        return self.dir / "data"

    def url(self, user: str = "postgres", password: str | None = None, database: str = "postgres",
            driver: str = "postgresql+psycopg") -> str:
        pw = self.password if password is None and user == "postgres" else password
        auth = quote(user, safe="") + (f":{quote(pw, safe='')}" if pw else "")
        return f"{driver}://{auth}@127.0.0.1:{self.port}/{database}"

    def dsn(self, user: str = "postgres", password: str | None = None, database: str = "postgres") -> str:
        return self.url(user, password, database, driver="postgresql")

    def start(self) -> None:
        options = " ".join(f"-c {k}={v}" for k, v in {
            "listen_addresses": "127.0.0.1", "port": self.port, "unix_socket_directories": "''",
            "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
            **self.settings}.items())
        _run([str(self.bin / "pg_ctl"), "start", "-w", "-t", str(START_TIMEOUT), "-D", str(self.data),
              "-l", str(self.dir / "server.log"), "-o", options], "pg_ctl start", timeout=START_TIMEOUT + 10)

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            _run([str(self.bin / "pg_ctl"), "stop", "-w", "-m", mode, "-D", str(self.data)], "pg_ctl stop")

    def remove(self) -> None:
        try:
            self.stop("immediate")
        except Unavailable:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self) -> str:
        try:
            return (self.dir / "server.log").read_text(errors="replace")
        except OSError:
            return ""


def start_postgres(settings: dict | None = None, directory: Path | None = None) -> PostgresServer:
    """initdb + pg_ctl start in a new temporary directory, password authentication over TCP only.

    With `directory`, the cluster lives there and is started again as it was left when
    it already exists (the benchmark keeps its corpus that way); remove() deletes it.
    """
    bin_dir = postgres_bin()
    if bin_dir is None:
        raise Unavailable("PostgreSQL is not installed (apt-get install postgresql)")
    base = _private_dir("feedpub-pg-", directory)
    kept = base / "password"
    if directory is not None and (base / "data" / "PG_VERSION").exists() and kept.exists():
        server = PostgresServer(bin_dir, base, free_port(), kept.read_text().strip(), dict(settings or {}))
        server.start()
        return server
    password = secrets.token_urlsafe(12) + "@:/%"      # characters a URL must escape
    server = PostgresServer(bin_dir, base, free_port(), password, dict(settings or {}))
    if directory is not None:
        kept.write_text(password + "\n")
        kept.chmod(0o600)
    try:
        pwfile = base / "pw"
        pwfile.write_text(password + "\n")
        if os.geteuid() == 0:
            entry = pwd.getpwnam(SERVER_USER)
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        pwfile.chmod(0o600)
        _run([str(bin_dir / "initdb"), "-D", str(server.data), "-U", "postgres", "--pwfile", str(pwfile),
              "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], "initdb", cwd=base)
        pwfile.unlink()
        for attempt in range(3):
            try:
                server.start()
                break
            except Unavailable:
                if attempt == 2 or "could not bind" not in server.log():
                    raise
                server.port = free_port()
    except BaseException as exc:
        log = server.log()
        server.remove()
        if isinstance(exc, Unavailable) and log:
            raise Unavailable(f"{exc}\n{log[-2000:]}") from None
        raise
    return server


# --- MariaDB -------------------------------------------------------------------------------------


@dataclass
class MariadbServer:
    dir: Path
    port: int
    password: str                                  # the administrator's ("admin")
    process: subprocess.Popen | None = None

    def url(self, user: str = "admin", password: str | None = None, database: str = "feedpub") -> str:
        pw = self.password if password is None and user == "admin" else password
        auth = quote(user, safe="") + (f":{quote(pw, safe='')}" if pw else "")
        return f"mysql+pymysql://{auth}@127.0.0.1:{self.port}/{database}?charset=utf8mb4"

    def remove(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def start_mariadb() -> MariadbServer:
    """mariadb-install-db + mariadbd in a new temporary directory, TCP on a free loopback port."""
    server_bin = shutil.which("mariadbd") or shutil.which("mysqld") or (
        "/usr/sbin/mariadbd" if os.path.exists("/usr/sbin/mariadbd") else None)
    install = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
    if server_bin is None or install is None:
        raise Unavailable("MariaDB is not installed (apt-get install mariadb-server)")
    base = _private_dir("feedpub-mariadb-")
    server = MariadbServer(base, free_port(), secrets.token_urlsafe(12))
    user = SERVER_USER if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    try:
        _run([install, f"--datadir={base / 'data'}", f"--user={user}", "--auth-root-authentication-method=normal",
              "--skip-test-db", "--skip-name-resolve"], "mariadb-install-db")
        argv = _as_server_user([server_bin, "--no-defaults", f"--datadir={base / 'data'}",
                                f"--socket={base / 'sock'}", f"--pid-file={base / 'pid'}", "--bind-address=127.0.0.1",
                                f"--port={server.port}", "--skip-name-resolve", "--skip-log-bin",
                                "--innodb-buffer-pool-size=64M", "--innodb-flush-log-at-trx-commit=0",
                                f"--log-error={base / 'error.log'}"])
        server.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if server.process.poll() is not None:
                raise Unavailable(f"mariadbd exited ({server.process.returncode}): "
                                  f"{(base / 'error.log').read_text(errors='replace')[-2000:]}")
            if (base / "sock").exists():
                break
            if time.monotonic() > deadline:
                raise Unavailable("mariadbd did not start within a minute")
            time.sleep(0.1)
        client = shutil.which("mariadb") or shutil.which("mysql")
        if client is None:
            raise Unavailable("the mariadb client is missing")
        sql = (f"CREATE DATABASE feedpub CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;"
               f"CREATE USER 'admin'@'127.0.0.1' IDENTIFIED BY '{server.password}';"
               "GRANT ALL ON *.* TO 'admin'@'127.0.0.1' WITH GRANT OPTION;")
        _run([client, "--no-defaults", f"--socket={base / 'sock'}", "-uroot", "-e", sql], "mariadb setup")
    except BaseException:
        server.remove()
        raise
    return server
