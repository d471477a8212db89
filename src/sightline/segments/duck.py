"""DuckDB in this process: one in-memory database, bounded memory and threads, nothing loaded
from the network (parquet and json are built into the wheel)."""

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import duckdb

from sightline.segments.store import SegmentStore
from sightline.segments.tail import TailCache
from sightline.settings import ColumnarSettings, Settings

T = TypeVar("T")


def connect(settings: ColumnarSettings, temp_directory: Path) -> duckdb.DuckDBPyConnection:
    temp_directory.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(config={
        "memory_limit": settings.memory_limit,
        "threads": settings.threads,
        "temp_directory": str(temp_directory),
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    })


class Duck:
    """The process's DuckDB, segment store and kept tails; queries run in a small thread pool,
    at most `concurrency` at once (DuckDB calls block)."""

    def __init__(self, settings: Settings):
        columnar = settings.columnar
        self.store = SegmentStore(settings.segments_dir)
        self.connection = connect(columnar, settings.segments_dir / ".tmp")
        self.limit = asyncio.Semaphore(columnar.concurrency)
        self.executor = ThreadPoolExecutor(columnar.concurrency, thread_name_prefix="duckdb")
        self.tails = TailCache(self, columnar.kept_tail_days, columnar.kept_tail_projects)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        return self.connection.cursor()

    async def run(self, work: Callable[[], T]) -> T:
        async with self.limit:
            return await asyncio.get_running_loop().run_in_executor(self.executor, work)

    def close(self) -> None:
        self.executor.shutdown(wait=False)
        self.connection.close()


def open_duck(settings: Settings) -> Duck | None:
    return Duck(settings) if settings.columnar.enabled else None
