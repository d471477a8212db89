"""POST /api/v1/hooks/invalidate, signed with the standardwebhooks library's own signer."""

import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from httpx import ASGITransport, AsyncClient
from standardwebhooks import Webhook

from tests.factories import auth, make_event, make_project, send_events

MARCH = {"date_from": "2024-03-01", "date_to": "2024-03-31"}
FEBRUARY = {"date_from": "2024-02-01", "date_to": "2024-02-29"}


@pytest.fixture
async def http(capp):
    async with AsyncClient(transport=ASGITransport(app=capp), base_url="http://test") as client:
        yield client


def signed(settings, payload: dict, msg_id: str | None = None, at: datetime | None = None,
           secret: str | None = None) -> tuple[bytes, dict[str, str]]:
    body = orjson.dumps(payload)
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    at = at or datetime.now(UTC)
    signer = Webhook(secret or settings.webhook_secret.get_secret_value())
    return body, {
        "webhook-id": msg_id, "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signer.sign(msg_id, at, body.decode()),
        "content-type": "application/json",
    }


async def post(http, body, headers):
    return await http.post("/api/v1/hooks/invalidate", content=body, headers=headers)


async def state(http, project, params) -> str:
    response = await http.get(f"/api/v1/projects/{project.id}/test-cache/count", params=params,
                              headers=auth(project.keys.read))
    return response.headers["x-cache"]


async def test_signed_invalidation_drops_only_the_dates_it_names(capp, http, db):
    project = await make_project(db, timezone="Europe/Paris")
    await send_events(http, project, [make_event()])
    for params in (MARCH, FEBRUARY, MARCH, FEBRUARY):
        await state(http, project, params)
    body, headers = signed(capp.state.settings, {"project_id": project.id,
                                                 "date_from": "2024-03-05", "date_to": "2024-03-05"})
    response = await post(http, body, headers)
    assert response.status_code == 202, response.text
    assert await state(http, project, MARCH) == "MISS"
    assert await state(http, project, FEBRUARY) == "HIT"


async def test_invalidation_without_dates_drops_everything(capp, http, db):
    project = await make_project(db)
    await state(http, project, FEBRUARY)
    body, headers = signed(capp.state.settings, {"project_id": project.id})
    assert (await post(http, body, headers)).status_code == 202
    assert await state(http, project, FEBRUARY) == "MISS"


async def test_a_replayed_webhook_id_has_no_second_effect(capp, http, db):
    project = await make_project(db)
    await state(http, project, MARCH)
    body, headers = signed(capp.state.settings, {"project_id": project.id})
    first = await post(http, body, headers)
    assert first.status_code == 202 and first.json()["replayed"] is False
    assert await state(http, project, MARCH) == "MISS"
    assert await state(http, project, MARCH) == "HIT"
    again = await post(http, body, headers)
    assert again.status_code == 202 and again.json()["replayed"] is True
    assert await state(http, project, MARCH) == "HIT"


@pytest.mark.parametrize("tamper", ["body", "secret", "old", "future", "missing"])
async def test_bad_or_old_signatures_are_refused(capp, http, db, tamper):
    project = await make_project(db)
    await send_events(http, project, [make_event()])
    await state(http, project, MARCH)
    settings = capp.state.settings
    payload = {"project_id": project.id}
    at = {"old": datetime.now(UTC) - timedelta(minutes=6),
          "future": datetime.now(UTC) + timedelta(minutes=6)}.get(tamper)
    secret = "whsec_" + "b3RoZXItc2VjcmV0LWtleS1mb3ItdGVzdHM=" if tamper == "secret" else None
    body, headers = signed(settings, payload, at=at, secret=secret)
    if tamper == "body":
        body = orjson.dumps({"project_id": project.id, "date_from": "2024-03-01",
                             "date_to": "2024-03-02"})
    if tamper == "missing":
        del headers["webhook-signature"]
    response = await post(http, body, headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert await state(http, project, MARCH) == "HIT"


async def test_unknown_project_and_invalid_body(capp, http):
    body, headers = signed(capp.state.settings, {"project_id": "p_nope"})
    assert (await post(http, body, headers)).status_code == 404
    body, headers = signed(capp.state.settings, {"project_id": 12, "date_from": "March"})
    assert (await post(http, body, headers)).status_code == 422
