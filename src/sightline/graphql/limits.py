"""Guards on GraphQL operations: an estimated cost limit, and AppErrors as coded GraphQL errors.

Cost: every object field costs 1, every stats computation (a `Stats` field, a widget's `data`)
costs STATS_COST, and a list field multiplies what is selected below it by its `limit` argument
or a typical size. Depth, aliases and tokens are limited by Strawberry's own extensions.
"""

from collections.abc import Iterator
from typing import Any

import structlog
from graphql import (
    FieldNode, FragmentSpreadNode, GraphQLError, GraphQLList, GraphQLNamedType, GraphQLNonNull,
    GraphQLObjectType, InlineFragmentNode, IntValueNode, OperationDefinitionNode,
    SelectionSetNode, ValidationRule, get_named_type,
)
from strawberry.extensions import SchemaExtension

from sightline.problems import AppError, database_unavailable, unavailable_problem

log = structlog.get_logger()

class QueryTooCostly(AppError):
    status, title, slug = 400, "Query too costly", "query-too-costly"


MAX_COST = 5000
STATS_COST = 10
LIST_SIZES = {"projects": 1, "dashboards": 20, "widgets": 20}
DEFAULT_LIST_SIZE = 10
STATS_FIELDS = {("Widget", "data")}


def list_size(field: FieldNode) -> int:
    for argument in field.arguments or ():
        if argument.name.value == "limit" and isinstance(argument.value, IntValueNode):
            return int(argument.value.value)
    return LIST_SIZES.get(field.name.value, DEFAULT_LIST_SIZE)


def is_list(field_type: Any) -> bool:
    if isinstance(field_type, GraphQLNonNull):
        field_type = field_type.of_type
    return isinstance(field_type, GraphQLList)


class CostLimit(ValidationRule):
    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        root = self.context.schema.get_root_type(node.operation)
        if root is None:
            return
        cost = self.selection_cost(node.selection_set, root, frozenset())
        if cost > MAX_COST:
            self.report_error(GraphQLError(
                f"Query cost {cost} exceeds the limit of {MAX_COST}; select fewer stats fields, "
                "dashboards or widgets, or smaller limits",
                node, extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "limit": MAX_COST}))

    def selection_cost(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType,
                       fragments: frozenset[str]) -> int:
        if selection_set is None or not isinstance(parent, GraphQLObjectType):
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                field = parent.fields.get(selection.name.value)
                if field is None:
                    continue  # introspection, or an unknown field another rule reports
                inner = self.selection_cost(selection.selection_set, get_named_type(field.type),
                                            fragments)
                stats = parent.name == "Stats" or (parent.name, selection.name.value) in STATS_FIELDS
                own = STATS_COST if stats else (1 if selection.selection_set else 0)
                total += own + (list_size(selection) if is_list(field.type) else 1) * inner
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.context.schema.get_type(condition.name.value) if condition else parent
                total += self.selection_cost(selection.selection_set, target or parent, fragments)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.context.get_fragment(name)
                if fragment is None or name in fragments:
                    continue  # unknown or cyclic: other rules report it
                target = self.context.schema.get_type(fragment.type_condition.name.value)
                total += self.selection_cost(fragment.selection_set, target or parent,
                                             fragments | {name})
        return total


def coded(error: GraphQLError) -> GraphQLError:
    """An AppError keeps its message and gets the problem's slug and members as extensions;
    any other exception is logged and masked."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return error
    if isinstance(original, AppError):
        message = original.detail
        extensions = {"code": original.slug.upper().replace("-", "_"), "status": original.status,
                      **original.members}
    elif database_unavailable(original):
        problem = unavailable_problem()
        log.warning("db.unavailable", path=error.path, error=type(original).__name__)
        message, extensions = problem.detail, {"code": "UNAVAILABLE", "status": problem.status}
    else:
        log.error("graphql.failed", path=error.path, exc_info=original)
        message, extensions = "An unexpected error occurred", {"code": "INTERNAL"}
    return GraphQLError(message, error.nodes, error.source, error.positions, error.path,
                        extensions=extensions)


class ProblemErrors(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and getattr(result, "errors", None):
            result.errors = [coded(e) for e in result.errors]
