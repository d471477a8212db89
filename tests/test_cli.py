"""The `sightline` command: what a newcomer gets wrong is one line on stderr, never a traceback."""

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import make_url

SIGHTLINE = str(Path(sys.executable).parent / "sightline")


def run(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SIGHTLINE_DATABASE_URL": database_url}
    env.pop("SIGHTLINE_REDIS_URL", None)
    return subprocess.run([SIGHTLINE, *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def one_line_failure(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_migrate_against_a_missing_database_says_so(database_url):
    missing = make_url(database_url).set(database="sightline_no_such_db").render_as_string(False)
    line = one_line_failure(run(missing, "migrate"))
    assert "does not exist" in line and "sightline_no_such_db" in line


def test_an_unreachable_server_says_so(database_url):
    closed = make_url(database_url).set(host="127.0.0.1", port=9).render_as_string(False)
    assert "cannot reach 127.0.0.1:9/" in one_line_failure(run(closed, "migrate"))


def test_seed_of_an_unknown_project_and_a_bad_time_zone(database_url):
    assert one_line_failure(run(database_url, "seed", "--project", "p_nope")) == \
        "error: Project p_nope not found"
    line = one_line_failure(run(database_url, "project", "create", "--name", "x",
                                "--timezone", "Mars/Base"))
    assert "unknown IANA time zone 'Mars/Base'" in line


def test_project_create_list_delete(database_url):
    created = run(database_url, "project", "create", "--name", "CLI", "--json")
    assert created.returncode == 0, created.stderr
    project = json.loads(created.stdout)
    assert set(project["keys"]) == {"admin", "read", "ingest"}
    listed = json.loads(run(database_url, "project", "list", "--json").stdout)
    assert {"id": project["id"], "name": "CLI", "timezone": "UTC"}.items() <= \
        next(p for p in listed if p["id"] == project["id"]).items()
    assert run(database_url, "project", "delete", project["id"], "--yes").returncode == 0
    listed = json.loads(run(database_url, "project", "list", "--json").stdout)
    assert project["id"] not in [p["id"] for p in listed]
    assert one_line_failure(run(database_url, "project", "delete", project["id"], "--yes")) == \
        f"error: Project {project['id']} not found"


def test_a_busy_or_restarting_server_is_one_line_too():
    from asyncpg.exceptions import CannotConnectNowError, TooManyConnectionsError
    from sqlalchemy.exc import DBAPIError

    from sightline.cli_errors import one_line_error
    from sightline.settings import Settings

    settings = Settings(database_url="postgresql://postgres@db.example:5433/shop")
    busy = DBAPIError("connect", {}, TooManyConnectionsError("sorry"))
    assert one_line_error(busy, settings) == (
        "db.example:5433/shop: the server has too many connections open; try again shortly")
    starting = DBAPIError("connect", {}, CannotConnectNowError("starting"))
    assert one_line_error(starting, settings) == (
        "db.example:5433/shop: the server is starting or shutting down; try again shortly")
    assert one_line_error(ValueError("a bug"), settings) is None  # a bug keeps its traceback
