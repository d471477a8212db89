"""`sightline key create|list|revoke` against the test database, as an operator runs them."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.factories import auth, make_project

SIGHTLINE = str(Path(sys.executable).with_name("sightline"))


def sightline(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SIGHTLINE_DATABASE_URL": database_url}
    return subprocess.run([SIGHTLINE, *args], env=env, capture_output=True, text=True,
                          timeout=60)


async def test_create_list_and_revoke_from_the_command_line(database_url, client, db):
    project = await make_project(db)
    made = sightline(database_url, "key", "create", "--project", project.id, "--scope", "read",
                     "--name", "cron", "--json")
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)
    url = f"/api/v1/projects/{project.id}/goals"
    assert (await client.get(url, headers=auth(key["key"]))).status_code == 200
    listed = sightline(database_url, "key", "list", "--project", project.id, "--json")
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert {row["name"] for row in rows} >= {"cron"} and all("key" not in row for row in rows)
    revoked = sightline(database_url, "key", "revoke", "--project", project.id, key["id"])
    assert revoked.returncode == 0, revoked.stderr
    again = sightline(database_url, "key", "revoke", "--project", project.id, key["id"])
    assert again.returncode == 1 and "not found" in again.stderr
    unknown = sightline(database_url, "key", "list", "--project", "p_nope")
    assert unknown.returncode == 1 and "not found" in unknown.stderr
