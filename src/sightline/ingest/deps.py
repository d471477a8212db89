from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request

from sightline.auth.deps import IngestKey
from sightline.gates import Turn
from sightline.state import app_state


async def ingest_turn(request: Request, key: IngestKey) -> AsyncIterator[Turn]:
    """The project's ingest turn in this process, taken by the endpoint once the batch is
    validated and released after the request's transaction (declared before the session, so it
    is released after the commit)."""
    async with Turn(app_state(request).ingest_gates, key.project_id) as turn:
        yield turn


IngestTurn = Annotated[Turn, Depends(ingest_turn, scope="function")]
