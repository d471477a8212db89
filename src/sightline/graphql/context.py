"""The GraphQL context: built from the same FastAPI dependencies as the REST routes."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from strawberry.fastapi import BaseContext

from sightline.auth.deps import Principal, require
from sightline.auth.keys import Scope
from sightline.graphql.loaders import Loaders
from sightline.problems import NotFound

# GraphQL names projects in arguments, not in the path; the key's project is checked per field.
GraphQLKey = Annotated[Principal, Depends(require(Scope.READ, Scope.ADMIN, project_in_path=False))]


class Context(BaseContext):
    def __init__(self, http: Request, principal: Principal):
        super().__init__()
        self.http = http
        self.principal = principal
        self.now = datetime.now(UTC)
        self.loaders = Loaders(http, self.now)

    def project_id(self, project_id: str) -> str:
        """The project a field asks for, when the key may see it (another tenant's: not found)."""
        if project_id != self.principal.project_id:
            raise NotFound(f"Project {project_id} not found")
        return project_id


async def get_context(request: Request, principal: GraphQLKey) -> Context:
    return Context(request, principal)
