"""A PostgreSQL primary and streaming replicas of its own, made from the machine's PostgreSQL
binaries (initdb, pg_basebackup, pg_ctl) on free ports and temporary directories: for the
scale-out benchmark and tests. As root, the binaries run as the `postgres` OS user."""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PG_BIN = Path(os.environ.get("SIGHTLINE_PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr or done.stdout}")


def as_postgres_user() -> list[str]:
    """PostgreSQL refuses to run as root: run its programs as the `postgres` OS user then."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def owned_directory(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(path, user.pw_uid, user.pw_gid)
    return path


SERVER_CONFIG = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{sockets}'
wal_level = replica
max_wal_senders = 4
wal_keep_size = '128MB'
hot_standby = on
max_connections = 80
shared_buffers = '32MB'
fsync = off
full_page_writes = off
autovacuum = off
"""


@dataclass
class Postgres:
    """One server: the primary (initdb) or a replica of it (pg_basebackup)."""

    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def ctl(self, *args: str) -> None:
        run([*as_postgres_user(), str(PG_BIN / "pg_ctl"), "-D", str(self.data), *args])

    def start(self) -> None:
        self.ctl("-l", str(self.root / "log"), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self.ctl("-m", mode, "-w", "stop")

    def remove(self) -> None:
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    @classmethod
    def primary(cls) -> "Postgres":
        server = cls(owned_directory("sightline-pg-primary-"), free_port())
        run([*as_postgres_user(), str(PG_BIN / "initdb"), "-D", str(server.data), "-U", "postgres",
             "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"])
        with (server.data / "postgresql.conf").open("a") as conf:
            conf.write(SERVER_CONFIG.format(port=server.port, sockets=server.root))
        server.start()
        return server

    def replica(self) -> "Postgres":
        server = Postgres(owned_directory("sightline-pg-replica-"), free_port())
        run([*as_postgres_user(), str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1",
             "-p", str(self.port), "-U", "postgres", "-D", str(server.data), "-R",
             "-X", "stream", "-c", "fast", "--no-sync"])
        with (server.data / "postgresql.conf").open("a") as conf:
            conf.write(f"port = {server.port}\nunix_socket_directories = '{server.root}'\n")
        server.start()
        return server
