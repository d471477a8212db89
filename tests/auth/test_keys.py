"""Keys of a project (SPEC section 9) and the key cache: secrets shown once, last use noted at
most once a minute, a revoked key refused by every process within 1 second, and a flood of
made-up keys costing a bounded number of database lookups."""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from httpx import ASGITransport, AsyncClient
from sqlalchemy import event

from sightline.app import create_app
from sightline.auth.keycache import KeyCache
from sightline.auth.keys import Scope, generate_key
from sightline.settings import LimitSettings
from tests.factories import auth, make_project


@asynccontextmanager
async def running(settings) -> AsyncIterator[tuple[object, AsyncClient]]:
    """Another app instance: its own key cache, as another server process has."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as http:
            yield app, http


def count_statements(app, marker: str) -> list[str]:
    seen: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if marker in statement:
            seen.append(statement)

    event.listen(app.state.key_engine.sync_engine, "before_cursor_execute", before)
    return seen


async def test_create_list_and_revoke_keys(client, db):
    project = await make_project(db)
    admin = auth(project.keys.admin)
    base = f"/api/v1/projects/{project.id}/keys"
    created = await client.post(base, json={"name": "exporter", "scope": "read"}, headers=admin)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["key"].startswith("sl_read_") and body["name"] == "exporter"
    stats = f"/api/v1/projects/{project.id}/goals"
    assert (await client.get(stats, headers=auth(body["key"]))).status_code == 200
    listed = (await client.get(base, headers=admin)).json()
    assert sorted(k["name"] for k in listed) == ["admin key", "exporter", "ingest key",
                                                 "read key"]
    assert all("key" not in k for k in listed)
    mine = next(k for k in listed if k["id"] == body["id"])
    assert mine["scope"] == "read" and mine["last_used_at"] is not None
    assert (await client.get(base, headers=auth(body["key"]))).status_code == 403
    assert (await client.post(base, json={"name": "", "scope": "read"},
                              headers=admin)).status_code == 422
    assert (await client.delete(f"{base}/{body['id']}", headers=admin)).status_code == 204
    assert (await client.get(stats, headers=auth(body["key"]))).status_code == 401
    assert (await client.delete(f"{base}/{body['id']}", headers=admin)).status_code == 404
    other = await make_project(db)
    assert (await client.get(f"/api/v1/projects/{other.id}/keys",
                             headers=admin)).status_code == 404


async def test_a_revoked_key_stops_working_in_every_process_within_a_second(settings, db):
    project = await make_project(db)
    async with running(settings) as (one, first), running(settings) as (two, second):
        made = (await first.post(f"/api/v1/projects/{project.id}/keys", headers=auth(
            project.keys.admin), json={"name": "temp", "scope": "read"})).json()
        url = f"/api/v1/projects/{project.id}/goals"
        for http in (first, second):
            assert (await http.get(url, headers=auth(made["key"]))).status_code == 200
        revoked = await first.delete(f"/api/v1/projects/{project.id}/keys/{made['id']}",
                                     headers=auth(project.keys.admin))
        assert revoked.status_code == 204
        assert (await first.get(url, headers=auth(made["key"]))).status_code == 401
        await asyncio.sleep(1.05)  # the key cache trusts a lookup for 1 s
        assert (await second.get(url, headers=auth(made["key"]))).status_code == 401


async def test_last_use_is_written_at_most_once_a_minute(settings, db):
    project = await make_project(db)
    async with running(settings) as (app, http):
        updates = count_statements(app, "UPDATE api_key")
        url = f"/api/v1/projects/{project.id}/goals"
        for _ in range(3):
            for _ in range(20):
                assert (await http.get(url, headers=auth(project.keys.read))).status_code == 200
            await asyncio.sleep(0.6)  # past half the key's cache life: looked up again
        assert len(updates) == 1


async def test_a_flood_of_made_up_keys_costs_bounded_lookups(settings, db):
    project = await make_project(db)
    limits = LimitSettings(unknown_keys_per_second=5, unknown_keys_burst=10)
    async with running(settings.model_copy(update={"limits": limits})) as (app, http):
        url = f"/api/v1/projects/{project.id}/goals"
        assert (await http.get(url, headers=auth(project.keys.read))).status_code == 200
        lookups = count_statements(app, "FROM api_key")
        started = time.monotonic()
        forged = [generate_key(Scope.READ) for _ in range(400)]
        responses = []
        for batch in range(0, len(forged), 50):
            responses += await asyncio.gather(*(http.get(url, headers=auth(key))
                                                for key in forged[batch:batch + 50]))
            good = await http.get(url, headers=auth(project.keys.read))
            assert good.status_code == 200  # a known key is served from the cache meanwhile
        elapsed = time.monotonic() - started
    statuses = {r.status_code for r in responses}
    assert statuses <= {401, 429} and 429 in statuses
    assert all(int(r.headers["retry-after"]) >= 1 for r in responses if r.status_code == 429)
    refreshes = elapsed / 0.5 + 1  # the known key's background lookups
    assert len(lookups) <= 10 + 5 * elapsed + 4 + refreshes, (len(lookups), elapsed)


async def test_the_key_cache_drops_the_least_recently_used_entry_only():
    async def lookup(key_hash: bytes) -> str | None:
        return None if key_hash.startswith(b"x") else key_hash.decode()

    cache: KeyCache[str] = KeyCache(lookup, max_entries=3, ttl=60)
    for name in (b"a", b"b", b"c"):
        assert await cache.get(name) == name.decode()
    await cache.get(b"a")  # used again: now the most recent
    await cache.get(b"d")
    assert list(cache.known) == [b"c", b"a", b"d"]
    for name in (b"x1", b"x2", b"x3", b"x4"):
        assert await cache.get(name) is None
    assert list(cache.known) == [b"c", b"a", b"d"] and len(cache.unknown) == 3
