"""Per-project concurrency limits inside one process.

One project's burst (ingest batches, dashboard or share-link recomputations) takes at most
`limit` places at a time, so it cannot take every pooled connection from the other projects;
a few more requests wait their turn, holding no connection, and beyond that the client is asked
to retry (429). A request that waits longer than `wait` gets a 503 with Retry-After.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from types import TracebackType
from dataclasses import dataclass, field

from sightline.problems import RateLimited, ServiceUnavailable
from sightline.settings import GateSettings


@dataclass
class Gate:
    slots: asyncio.Semaphore
    users: int = 0


@dataclass
class ProjectGates:
    name: str
    settings: GateSettings
    gates: dict[str, Gate] = field(default_factory=dict)

    @asynccontextmanager
    async def hold(self, project_id: str) -> AsyncIterator[None]:
        gate = self.gates.get(project_id)
        if gate is None:
            gate = self.gates[project_id] = Gate(asyncio.Semaphore(self.settings.limit))
        if gate.users >= self.settings.limit + self.settings.queue:
            raise RateLimited(f"Too many concurrent {self.name} requests for this project",
                              retry_after=1)
        gate.users += 1
        try:
            try:
                async with asyncio.timeout(self.settings.wait.total_seconds()):
                    await gate.slots.acquire()
            except TimeoutError:
                raise ServiceUnavailable(f"This project's {self.name} requests are queued; "
                                         "retry shortly") from None
            try:
                yield
            finally:
                gate.slots.release()
        finally:
            gate.users -= 1
            if gate.users == 0:
                del self.gates[project_id]


class Turn:
    """A place in a project's gate, taken when the request needs it and held until it exits."""

    def __init__(self, gates: ProjectGates, project_id: str):
        self.gates, self.project_id = gates, project_id
        self.stack = AsyncExitStack()

    async def take(self) -> None:
        await self.stack.enter_async_context(self.gates.hold(self.project_id))

    async def __aenter__(self) -> "Turn":
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        await self.stack.aclose()
