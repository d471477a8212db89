"""Replica rotation without servers: lag from the primary's position history, and reads that go
to the primary when no replica is configured."""

from sightline.replicas.router import History, replica_name
from tests.factories import auth, make_project


def test_lag_is_the_age_of_the_oldest_position_the_replica_has_not_replayed():
    history = History()
    for second, position in ((0.0, 100), (1.0, 200), (2.0, 200), (3.0, 300)):
        history.add(second, position, keep=60)
    assert history.lag(4.0, 300) == 0.0
    assert history.lag(4.0, 250) == 1.0  # 300 was first seen at 3.0
    assert history.lag(4.0, 150) == 3.0  # 200 was first seen at 1.0
    assert history.lag(4.0, 50) == 4.0


def test_old_positions_are_forgotten_but_the_newest_is_kept():
    history = History()
    for second in range(100):
        history.add(float(second), second, keep=10)
    assert len(history.samples) <= 12
    assert history.samples[-1] == (99.0, 99)


def test_replica_names_leave_credentials_out():
    assert replica_name("postgresql+asyncpg://u:secret@db2:5433/app") == "db2:5433/app"


async def test_without_replicas_stats_read_the_primary_and_readyz_lists_none(app, client, db):
    project = await make_project(db)
    response = await client.get(f"/api/v1/projects/{project.id}/stats/overview",
                                headers=auth(project.keys.read))
    assert response.status_code == 200
    ready = (await client.get("/readyz")).json()
    assert "replicas" not in ready["checks"]
    assert app.state.read_router.replicas == []
