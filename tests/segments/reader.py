"""A second process reading a project's segments: `python -m tests.segments.reader URL DATA_DIR
PROJECT TZ NOW ROUNDS` prints the answers of the queries of test_columnar_paths, ROUNDS times."""

import asyncio
import json
import sys
from datetime import datetime

from sqlalchemy.ext.asyncio import create_async_engine

from sightline.segments.duck import Duck
from sightline.settings import Settings
from sightline.stats.context import Context
from sightline.stats.planner import run_report
from sightline.stats.reports import COLUMNAR
from sightline.stats.runner import Runner
from tests.segments.test_columnar_paths import queries


async def main(url: str, data_dir: str, project_id: str, timezone: str, now: str,
               rounds: int) -> None:
    duck = Duck(Settings(database_url=url, data_dir=data_dir))
    engine = create_async_engine(url, pool_size=2, max_overflow=0)
    ctx = Context(Runner(engine), project_id, timezone, datetime.fromisoformat(now), duck=duck)
    try:
        for _ in range(rounds):
            answers = [await run_report(ctx, q, COLUMNAR) for q in queries(timezone)]
            print(json.dumps(answers, default=str), flush=True)
    finally:
        duck.close()
        await engine.dispose()


if __name__ == "__main__":
    url, data_dir, project_id, timezone, now, rounds = sys.argv[1:]
    asyncio.run(main(url, data_dir, project_id, timezone, now, int(rounds)))
