"""Typer commands: serve, worker, migrate, project, seed, demo."""

import asyncio
import json
from typing import Annotated

import typer

from sightline.settings import Settings, get_settings

app = typer.Typer(no_args_is_help=True, help="Sightline analytics backend",
                  pretty_exceptions_enable=False)
project_app = typer.Typer(no_args_is_help=True, help="Manage projects")
app.add_typer(project_app, name="project")


def resolved_url(settings: Settings) -> str:
    from sightline.app import database_url

    return database_url(settings)


def with_session(settings: Settings, work):  # type: ignore[no-untyped-def]
    """Run `work(session)` in a new event loop, committing at the end."""
    url = resolved_url(settings)  # outside the loop: the embedded mode migrates synchronously
    return asyncio.run(in_session(url, settings, work))


async def in_session(url: str, settings: Settings, work):  # type: ignore[no-untyped-def]
    from sightline.db import create_engine, make_sessionmaker

    engine = create_engine(url, settings)
    try:
        async with make_sessionmaker(engine)() as session:
            result = await work(session)
            await session.commit()
            return result
    finally:
        await engine.dispose()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
) -> None:
    """Run the API server (uvicorn)."""
    import uvicorn

    settings = get_settings()
    if settings.embedded:
        resolved_url(settings)  # start and migrate the embedded database once, before workers
    uvicorn.run("sightline.app:create_app", factory=True, host=host, port=port, workers=workers,
                loop="uvloop", http="httptools", access_log=False, log_level="warning")


@app.command()
def migrate() -> None:
    """Apply the database migrations (Alembic) up to head."""
    from sightline.migrate import upgrade_to_head

    settings = get_settings()
    if settings.embedded:
        resolved_url(settings)
    else:
        upgrade_to_head(settings.database_url)  # type: ignore[arg-type]
    typer.echo("migrated to head")


@app.command()
def worker() -> None:
    """Run background jobs (scheduled reports and maintenance)."""
    from sightline.worker.loop import run_worker

    settings = get_settings()
    asyncio.run(run_worker(settings, resolved_url(settings)))


def valid_timezone(value: str) -> str:
    from sightline.problems import InvalidParameter
    from sightline.projects.schemas import check_timezone

    try:
        return check_timezone(value)
    except ValueError as exc:
        raise InvalidParameter("timezone", f"--timezone: {exc}") from None


@project_app.command("create")
def project_create(
    name: Annotated[str, typer.Option(help="Project name")],
    timezone: Annotated[str, typer.Option(help="IANA time zone")] = "UTC",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Create a project and print its id and keys (shown once)."""
    from sightline.projects.service import create_project

    valid_timezone(timezone)
    created = with_session(get_settings(), lambda db: create_project(db, name, timezone))
    if as_json:
        typer.echo(json.dumps(created.model_dump()))
    else:
        typer.echo(f"project {created.id} ({created.name}, {created.timezone})")
        for scope, key in created.keys.model_dump().items():
            typer.echo(f"  {scope:7} {key}")


@project_app.command("list")
def project_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """List every project."""
    from sightline.projects.service import list_projects

    projects = with_session(get_settings(), list_projects)
    if as_json:
        typer.echo(json.dumps([p.model_dump(mode="json") for p in projects]))
    for project in [] if as_json else projects:
        typer.echo(f"{project.id}  {project.timezone:20} {project.name}")


@project_app.command("delete")
def project_delete(
    project: Annotated[str, typer.Argument(help="Project id")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask")] = False,
) -> None:
    """Delete a project with all its events, keys and dashboards."""
    from sightline.projects.service import delete_project

    if not yes:
        typer.confirm(f"Delete project {project} and all its data?", abort=True)
    settings = get_settings()
    with_session(settings, lambda db: delete_project(db, project))
    if settings.redis_url:
        asyncio.run(forget_cached(settings, project))
    typer.echo(f"deleted {project}")


async def forget_cached(settings: Settings, project_id: str) -> None:
    """Drop the project's cached results from Redis."""
    from sightline.cache.freshness import open_cache

    store = open_cache(settings)
    try:
        await store.forget_project(project_id)
    finally:
        await store.close()


@app.command()
def seed(
    project: Annotated[str, typer.Option(help="Project id")],
    events: Annotated[int, typer.Option(help="Number of events")] = 100_000,
    days: Annotated[int, typer.Option(help="Days of history, ending now")] = 30,
    seed: Annotated[int, typer.Option(help="Random seed")] = 1,
) -> None:
    """Insert realistic demo traffic quickly (COPY), with sessions built."""
    stats = with_session(
        get_settings(), lambda db: seed_and_roll_up(db, project, events, days, seed))
    typer.echo(json.dumps(stats))


async def seed_and_roll_up(db, project_id: str, events: int, days: int, seed: int):  # type: ignore[no-untyped-def]
    """Seed traffic, then build its daily rollups at once (the worker would, a little later)."""
    from datetime import UTC, datetime, timedelta

    from sightline.projects.service import get_project
    from sightline.rollups.tasks import rebuild
    from sightline.seed.service import seed_project

    stats = await seed_project(db, project_id, events, days, seed)
    await db.commit()
    project = await get_project(db, project_id)
    now = datetime.now(UTC)
    built = await rebuild(db, project_id, project.timezone, now - timedelta(days=days + 1), now)
    return {**stats, "rollup_days": len(built)}


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    events: Annotated[int, typer.Option(help="Events to seed")] = 200_000,
) -> None:
    """Embedded database, a demo project with seeded traffic, and the server."""
    from sightline.projects.service import create_project

    settings = get_settings()

    async def make_demo(db):  # type: ignore[no-untyped-def]
        created = await create_project(db, "Demo", "Europe/Berlin")
        await db.commit()
        await seed_and_roll_up(db, created.id, events, 30, 1)
        return created

    created = with_session(settings, make_demo)
    base = f"http://127.0.0.1:{port}"
    typer.echo(f"Sightline demo at {base}  (dashboard {base}/?key={created.keys.read}"
               f"&project={created.id}, API docs {base}/docs)")
    typer.echo(json.dumps(created.model_dump(), indent=2))
    serve(host="127.0.0.1", port=port, workers=1)


@app.command()
def bench(
    quick: Annotated[bool, typer.Option(help="Small data set and short runs (< 3 minutes)")] = False,
    workers: Annotated[int, typer.Option(help="Server worker processes")] = 2,
    database_url: Annotated[str | None, typer.Option(
        help="PostgreSQL server to use (any database on it; the bench creates its own)")] = None,
    redis_url: Annotated[str, typer.Option(help="Redis to use")] = "redis://127.0.0.1:6379/0",
    port: Annotated[int, typer.Option(help="First of two loopback ports for the servers")] = 8711,
) -> None:
    """Run the benchmark suite and write docs/benchmarks.md (see that file)."""
    from sightline.bench.runner import DEFAULT_ADMIN_URL, Options, run_bench

    options = Options(mode="quick" if quick else "full", workers=workers,
                      admin_url=database_url or DEFAULT_ADMIN_URL, redis_url=redis_url, port=port)
    asyncio.run(run_bench(options, log=lambda line: typer.echo(line)))


def main() -> None:
    """The `sightline` command: every failure a user can cause is one line on stderr."""
    from sightline.cli_errors import one_line_error

    try:
        app()
    except Exception as exc:  # noqa: BLE001  (turned into one line, or raised again)
        message = one_line_error(exc, get_settings())
        if message is None:
            raise
        typer.echo(f"error: {message}", err=True)
        raise SystemExit(1) from None
