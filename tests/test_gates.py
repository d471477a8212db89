"""Per-project gates: a few holders per project, a bounded queue (429), a bounded wait (503)."""

import asyncio
from datetime import timedelta

import pytest

from sightline.gates import ProjectGates
from sightline.problems import RateLimited, ServiceUnavailable
from sightline.settings import GateSettings


async def test_projects_do_not_share_places_and_the_queue_is_bounded():
    gates = ProjectGates("test", GateSettings(limit=1, queue=1, wait=timedelta(seconds=5)))
    release = asyncio.Event()

    async def hold(project_id: str) -> None:
        async with gates.hold(project_id):
            await release.wait()

    first = asyncio.create_task(hold("a"))
    queued = asyncio.create_task(hold("a"))
    await asyncio.sleep(0.01)
    with pytest.raises(RateLimited):
        async with gates.hold("a"):
            pass
    async with gates.hold("b"):  # another project is not held up
        pass
    release.set()
    await asyncio.gather(first, queued)
    assert gates.gates == {}


async def test_a_wait_past_the_limit_is_503():
    gates = ProjectGates("test", GateSettings(limit=1, queue=5, wait=timedelta(seconds=0.05)))
    async with gates.hold("a"):
        with pytest.raises(ServiceUnavailable):
            async with gates.hold("a"):
                pass
