"""Typer commands: serve, worker, migrate, project, seed, demo, stop."""

import asyncio
import json
import os
import sys
import time
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from sightline.settings import Settings, get_settings

app = typer.Typer(no_args_is_help=True, help="Sightline analytics backend",
                  pretty_exceptions_enable=False)
project_app = typer.Typer(no_args_is_help=True, help="Manage projects")
app.add_typer(project_app, name="project")
segments_app = typer.Typer(no_args_is_help=True, help="Columnar segments (derived from the database)")
app.add_typer(segments_app, name="segments")
key_app = typer.Typer(no_args_is_help=True, help="Manage a project's keys")
app.add_typer(key_app, name="key")


def resolved_url(settings: Settings) -> str:
    from sightline.app import database_url

    if not settings.embedded:
        return database_url(settings)
    with step(f"Starting the embedded PostgreSQL in {settings.data_dir}/ (first time: ~10 s)"):
        return database_url(settings)


@contextmanager
def step(text: str) -> Iterator[None]:
    """One line per slow step: what it does, then how long it took."""
    typer.echo(f"==> {text} …", err=True)
    started = time.perf_counter()
    yield
    typer.echo(f"    done in {time.perf_counter() - started:.1f} s", err=True)


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
    """Run the API server (uvicorn). Its worker processes share one metrics directory, so
    /metrics reports the whole server whichever process answers."""
    with metrics_directory():
        settings = get_settings()
        if settings.embedded:
            resolved_url(settings)  # start and migrate the embedded database once, before workers
        run_server(settings, host, port, workers)


@contextmanager
def metrics_directory() -> Iterator[None]:
    """A fresh PROMETHEUS_MULTIPROC_DIR for this server's processes, removed at exit (one the
    operator set is used as it is). Set before prometheus_client is first imported."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        yield
        return
    with tempfile.TemporaryDirectory(prefix="sightline-metrics-") as directory:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
        try:
            yield
        finally:
            del os.environ["PROMETHEUS_MULTIPROC_DIR"]


def run_server(settings: Settings, host: str, port: int, workers: int) -> None:
    """uvicorn until Ctrl-C; then the embedded database (if any) is stopped too."""
    import uvicorn

    try:
        uvicorn.run("sightline.app:create_app", factory=True, host=host, port=port,
                    workers=workers, loop="uvloop", http="httptools", access_log=False,
                    log_level="warning")
    finally:
        if settings.embedded:
            stop_embedded(settings)


def stop_embedded(settings: Settings) -> None:
    from sightline.embedded import stop_embedded_database

    if stop_embedded_database(settings.data_dir):
        typer.echo(f"stopped the embedded PostgreSQL in {settings.data_dir}/", err=True)


@app.command()
def stop() -> None:
    """Stop the embedded PostgreSQL (SIGHTLINE_DATA_DIR) if one is running."""
    settings = get_settings()
    from sightline.embedded import stop_embedded_database

    if stop_embedded_database(settings.data_dir):
        typer.echo(f"stopped the embedded PostgreSQL in {settings.data_dir}/")
    else:
        typer.echo(f"no embedded PostgreSQL is running in {settings.data_dir}/")


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


def valid_origins(values: list[str]) -> list[str]:
    from sightline.problems import InvalidParameter
    from sightline.projects.schemas import check_origin

    try:
        return list(dict.fromkeys(check_origin(value) for value in values))
    except ValueError as exc:
        raise InvalidParameter("origin", f"--origin: {exc}") from None


@project_app.command("create")
def project_create(
    name: Annotated[str, typer.Option(help="Project name")],
    timezone: Annotated[str, typer.Option(help="IANA time zone")] = "UTC",
    origin: Annotated[list[str] | None, typer.Option(
        help="An origin allowed to send tracker beacons (repeatable; none: any origin)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Create a project and print its id and keys (shown once)."""
    from sightline.projects.service import create_project

    valid_timezone(timezone)
    origins = valid_origins(origin or [])
    created = with_session(get_settings(), lambda db: create_project(db, name, timezone, origins))
    if as_json:
        typer.echo(json.dumps(created.model_dump()))
    else:
        typer.echo(f"project {created.id} ({created.name}, {created.timezone}), "
                   f"site id {created.site_id}")
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


@segments_app.command("rebuild")
def segments_rebuild(
    project: Annotated[str | None, typer.Option(help="Project id (default: every project)")] = None,
) -> None:
    """Drop the segments and write them again from the database (they are a derived copy)."""
    built = with_session(get_settings(), lambda db: rebuild_segments(db, get_settings(), project))
    typer.echo(json.dumps(built))


async def rebuild_segments(db, settings: Settings, project_id: str | None):  # type: ignore[no-untyped-def]
    from sightline.projects.service import get_project, list_projects
    from sightline.segments import service as segments
    from sightline.segments.duck import Duck

    duck = Duck(settings)
    try:
        ids = [project_id] if project_id else [p.id for p in await list_projects(db)]
        built = {}
        for pid in ids:
            project = await get_project(db, pid)
            built[pid] = await segments.rebuild(db.bind, duck, pid, project.timezone)
        return built
    finally:
        duck.close()


def run_on_project(project: str, work):  # type: ignore[no-untyped-def]
    """`work(session)` for an existing project (an unknown one: NotFound, one line by main)."""
    from sightline.projects.service import get_project

    async def checked(db):  # type: ignore[no-untyped-def]
        await get_project(db, project)
        return await work(db)

    return with_session(get_settings(), checked)


@key_app.command("create")
def key_create(
    project: Annotated[str, typer.Option(help="Project id")],
    scope: Annotated[str, typer.Option(help="ingest, read or admin")],
    name: Annotated[str, typer.Option(help="What the key is for")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Create a key and print it (shown once)."""
    from sightline.auth.schemas import KeyCreate
    from sightline.auth.service import create_key

    try:
        request = KeyCreate(name=name, scope=scope)  # type: ignore[arg-type]
    except ValueError as exc:
        typer.echo(f"invalid key: {exc}", err=True)
        raise typer.Exit(2) from None
    created = run_on_project(project, lambda db: create_key(db, project, request))
    typer.echo(created.model_dump_json() if as_json else
               f"key {created.id} ({created.scope.value}, {created.name}): {created.key}")


@key_app.command("list")
def key_list(
    project: Annotated[str, typer.Option(help="Project id")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """List a project's keys (never their secrets)."""
    from sightline.auth.service import list_keys

    keys = run_on_project(project, lambda db: list_keys(db, project))
    for key in keys:
        typer.echo(key.model_dump_json() if as_json else
                   f"{key.id}  {key.scope.value:7} {key.prefix}…  {key.name}  "
                   f"created {key.created_at:%Y-%m-%d}  last used "
                   f"{f'{key.last_used_at:%Y-%m-%d %H:%M}' if key.last_used_at else 'never'}")


@key_app.command("revoke")
def key_revoke(
    project: Annotated[str, typer.Option(help="Project id")],
    key_id: Annotated[str, typer.Argument(help="Key id (from key list)")],
) -> None:
    """Revoke a key: every server refuses it within 1 second."""
    from sightline.auth.service import revoke_key

    run_on_project(project, lambda db: revoke_key(db, project, key_id))
    typer.echo(f"revoked {key_id}")


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
    from sightline.seed.service import seed_project

    stats = await seed_project(db, project_id, events, days, seed)
    await db.commit()
    rollup_days = await roll_up(db, project_id, days)
    months = (await rebuild_segments(db, get_settings(), project_id))[project_id]
    return {**stats, "rollup_days": rollup_days, "segment_months": len(months)}


async def roll_up(db, project_id: str, days: int) -> int:  # type: ignore[no-untyped-def]
    """Build the daily rollups of the last `days` days now; the number of days built."""
    from datetime import UTC, datetime, timedelta

    from sightline.projects.service import get_project
    from sightline.rollups.tasks import rebuild

    project = await get_project(db, project_id)
    now = datetime.now(UTC)
    return len(await rebuild(db, project_id, project.timezone, now - timedelta(days=days + 1), now))


DEMO_DAYS = 60  # two 30-day periods: "30 days" compares with a previous period full of data


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    events: Annotated[int, typer.Option(help="Events to seed")] = 200_000,
    reset: Annotated[bool, typer.Option(help="Delete the demo project and seed a new one")] = False,
) -> None:
    """Embedded database, a demo project with seeded traffic, and the server. Run again, it
    reuses its project and data; Ctrl-C stops the server and the embedded database."""
    from sightline.projects.schemas import ProjectCreated

    settings = get_settings()
    url = resolved_url(settings)
    saved = settings.data_dir / "demo.json"
    known = ProjectCreated.model_validate_json(saved.read_text()) if saved.exists() else None
    created = asyncio.run(in_session(url, settings, lambda db: demo_project(
        db, known, reset, events, settings)))
    if created != known:
        saved.write_text(created.model_dump_json())
        os.chmod(saved, 0o600)  # the demo's keys
    base = f"http://127.0.0.1:{port}"
    typer.echo(json.dumps(created.model_dump(), indent=2))
    typer.echo(f"\nSightline demo: {base}/?project={created.id}#key={created.keys.read}\n"
               f"API docs {base}/docs · Ctrl-C stops the server and the embedded database "
               f"(`sightline stop` if it is left running) · `make demo` again reuses this "
               f"project, `sightline demo --reset` starts over")
    run_server(settings, "127.0.0.1", port, 1)


async def demo_project(db, known, reset: bool, events: int, settings: Settings):  # type: ignore[no-untyped-def]
    """The demo project: the saved one while it exists (and not `reset`), else a new one with
    `events` seeded events over DEMO_DAYS days."""
    from sightline.problems import NotFound
    from sightline.projects.service import create_project, delete_project, get_project
    from sightline.seed.service import seed_project

    if known is not None:
        try:
            await get_project(db, known.id)
        except NotFound:
            known = None
    if known is not None and reset:
        with step(f"Deleting the demo project {known.id}"):
            await delete_project(db, known.id)
            await db.commit()
        known = None
    if known is not None:
        typer.echo(f"==> Reusing the demo project {known.id} and its data (--reset starts over)",
                   err=True)
        return known
    created = await create_project(db, "Demo", "Europe/Berlin")
    await db.commit()
    with typer.progressbar(length=events, label=f"==> Seeding {events:,} events over "
                           f"{DEMO_DAYS} days", file=sys.stderr) as bar:
        await seed_project(db, created.id, events, DEMO_DAYS, 1, progress=bar.update)
    await db.commit()
    with step("Building the daily rollups"):
        await roll_up(db, created.id, DEMO_DAYS)
    with step("Building the columnar segments"):
        await rebuild_segments(db, get_settings(), created.id)
    return created


@app.command()
def bench(
    quick: Annotated[bool, typer.Option(help="Small data set and short runs (< 3 minutes)")] = False,
    workers: Annotated[int, typer.Option(help="Server worker processes")] = 2,
    database_url: Annotated[str | None, typer.Option(
        help="PostgreSQL server to use (any database on it; the bench creates its own)")] = None,
    redis_url: Annotated[str, typer.Option(help="Redis to use")] = "redis://127.0.0.1:6379/0",
    port: Annotated[int, typer.Option(help="First of two loopback ports for the servers")] = 8711,
    scale_out: Annotated[bool, typer.Option(
        help="Only the scale-out scenario: 1 and 2 API processes against a PostgreSQL primary "
             "and streaming replica of its own (see docs/scaling.md)")] = False,
    events: Annotated[int, typer.Option(help="Events seeded for --scale-out")] = 200_000,
    only: Annotated[list[str] | None, typer.Option(
        help="Run only this scenario (repeatable: floor, ingest, warm, cold, adhoc, raw, "
             "dashboard, mix, beacons, fresh); the report goes to bench/.results/only/")] = None,
) -> None:
    """Run the benchmark suite and write docs/benchmarks.md (see that file)."""
    from sightline.bench.runner import (
        ALL_SCENARIOS, DEFAULT_ADMIN_URL, RESULTS_DIR, Options, project_root, run_bench,
    )

    if scale_out:
        from sightline.bench.scaleout import ScaleOptions, markdown, run_scale_out

        logs = project_root() / RESULTS_DIR
        rows = asyncio.run(run_scale_out(ScaleOptions(redis_url, port, events), logs,
                                         log=lambda line: typer.echo(line)))
        (logs / "scale-out.md").write_text(markdown(rows))
        typer.echo(markdown(rows))
        return

    unknown = [name for name in only or () if name not in ALL_SCENARIOS]
    if unknown:
        typer.echo(f"unknown scenario {', '.join(unknown)} (one of {', '.join(ALL_SCENARIOS)})",
                   err=True)
        raise typer.Exit(2)
    options = Options(mode="quick" if quick else "full", workers=workers,
                      admin_url=database_url or DEFAULT_ADMIN_URL, redis_url=redis_url, port=port,
                      scenarios=tuple(only) if only else ALL_SCENARIOS,
                      output=project_root() / RESULTS_DIR / "only" if only else None)
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
