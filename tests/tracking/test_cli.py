"""`sightline project create --origin URL ... --json` prints the site id (SPEC section 1)."""

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

SIGHTLINE = str(Path(sys.executable).with_name("sightline"))


def run_cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SIGHTLINE_DATABASE_URL": database_url}
    return subprocess.run([SIGHTLINE, *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


async def test_project_create_with_origins_prints_the_site_id(database_url, db):
    done = run_cli(database_url, "project", "create", "--name", "Shop", "--origin",
                   "https://Shop.example:443/", "--origin", "http://localhost:3000", "--json")
    assert done.returncode == 0, done.stderr
    created = json.loads(done.stdout)
    assert set(created) == {"id", "name", "timezone", "site_id", "keys"}
    assert created["site_id"].startswith("s_")
    origins = (await db.execute(text("SELECT allowed_origins FROM project WHERE id = :id"),
                                {"id": created["id"]})).scalar_one()
    assert origins == ["https://shop.example", "http://localhost:3000"]


def test_a_bad_origin_is_one_line(database_url):
    done = run_cli(database_url, "project", "create", "--name", "Shop", "--origin", "shop.example")
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [
        "error: --origin: 'shop.example' is not an origin like https://example.com"]
