"""Citus readiness, checked: every statement the product sends constrains each tenant table it
names by the project id (the distribution column), so that a distributed engine can route it to
the one node holding that project.

The suite records the product's statements as it runs (conftest.product_statements); statements
a test sends itself, and migrations, are left out. A few instance-level statements are allowed,
each with its reason (docs/scaling.md describes where those tables live under Citus).
"""

import sys
from collections.abc import Iterable
from pathlib import Path

import greenlet
import sqlglot
from sqlglot import exp

import sightline
from sightline.db import Base

SOURCE = str(Path(sightline.__file__).parent)
MIGRATIONS, MIGRATE = f"{SOURCE}/migrations/", f"{SOURCE}/migrate.py"
TESTS = str(Path(__file__).parent)
RECORDERS = (__file__, str(Path(__file__).with_name("conftest.py")))  # not the statement's origin
DATA = {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH"}
KEY = "project_id"
PROJECT_TABLE = "project"  # distributed by its own id

# Tables that are not distributed by project, and why.
INSTANCE_TABLES = {
    "webhook_delivery": "ids of received webhooks, instance-wide (a reference table)",
    "job": "the job queue: workers claim across projects (a table local to the coordinator)",
    "job_turn": "the queue's fairness turns (local to the coordinator, next to job)",
    "salt": "the daily secret of browser visitor ids, instance-wide (a reference table)",
}
# Statements that look a tenant up by a secret before its project is known, or cover every
# project on purpose, by a fragment of their text.
INSTANCE_STATEMENTS = {
    "FROM api_key WHERE api_key.key_hash =":
        "a key names its project: api_key is a reference table (small, copied to every node)",
    "FROM share_token WHERE share_token.token_hash =":
        "a share link names its project: share_token is a reference table",
    "SELECT DISTINCT project_id, 'rollups.build'":
        "the scheduler's sweep for projects with rollups to build, every project on purpose",
    "FROM project WHERE project.site_id =":
        "a beacon names its site by the public site id before its project is known (a read "
        "across shards, cached in each process like keys)",
    "FROM project ORDER BY project.created_at, project.id":
        "the instance admin lists every project (a rare read across all shards)",
}


def tenant_tables() -> set[str]:
    import sightline.models  # noqa: F401 - every table registers itself on Base

    return {t.name for t in Base.metadata.sorted_tables} - set(INSTANCE_TABLES)


def origin() -> str | None:
    """'product', 'migration' or 'test': whose code sent the statement being executed, found by walking the
    stack outwards, across SQLAlchemy's greenlet into the awaiting coroutines."""
    frame = sys._getframe(2)
    current: greenlet.greenlet | None = greenlet.getcurrent()
    while True:
        while frame is not None:
            path = frame.f_code.co_filename
            if path.startswith(MIGRATIONS) or path == MIGRATE:
                return "migration"
            if path.startswith(SOURCE):
                return "product"
            if path.startswith(TESTS) and path not in RECORDERS:
                return "test"
            frame = frame.f_back
        current = current.parent if current is not None else None
        if current is None:
            return None
        frame = current.gr_frame


def is_product_statement(statement: str) -> bool:
    words = statement.split(None, 1)
    return bool(words) and words[0].upper() in DATA and origin() == "product"


def scope_of(node: exp.Expression) -> exp.Expression | None:
    return node.find_ancestor(exp.Select, exp.Update, exp.Delete, exp.Insert)


def key_column(table: exp.Table) -> str:
    return "id" if table.name == PROJECT_TABLE else KEY


def pins(side: exp.Expression, table: exp.Table, alone: bool) -> bool:
    """Is `side` the table's key column (or a tuple holding it)?"""
    if isinstance(side, exp.Tuple):
        return any(pins(item, table, alone) for item in side.expressions)
    if isinstance(side, exp.Paren):
        return pins(side.this, table, alone)
    if not isinstance(side, exp.Column) or side.name != key_column(table):
        return False
    return side.table == table.alias_or_name or (not side.table and alone)


def constrained(table: exp.Table, scope: exp.Expression) -> bool:
    """An insert names the key column; otherwise some predicate of the table's own scope
    compares its key with a value, a list, or another table's key (a join on the project)."""
    if isinstance(scope, exp.Insert):
        target = scope.this
        columns = target.expressions if isinstance(target, exp.Schema) else []
        return any(getattr(column, "name", None) == key_column(table) for column in columns)
    alone = sum(1 for t in scope.find_all(exp.Table) if scope_of(t) is scope) == 1
    for predicate in scope.find_all(exp.EQ, exp.In):
        if scope_of(predicate) is not scope:
            continue
        sides = [predicate.this]
        if isinstance(predicate, exp.EQ):
            sides.append(predicate.expression)
        if any(pins(side, table, alone) for side in sides):
            return True
    return False


def unconstrained_tables(sql: str, tables: Iterable[str]) -> list[str]:
    """The tables of `tables` that `sql` names without constraining them by project."""
    names = set(tables)
    missing = []
    for statement in sqlglot.parse(sql, read="postgres"):
        for table in statement.find_all(exp.Table) if statement is not None else ():
            if table.name in names:
                scope = scope_of(table)
                if scope is None or not constrained(table, scope):
                    missing.append(table.name)
    return missing


def allowed(statement: str) -> bool:
    flat = " ".join(statement.split())
    return any(fragment in flat for fragment in INSTANCE_STATEMENTS)


def unscoped(statements: Iterable[str]) -> list[str]:
    """The statements, with the tables they leave unconstrained, that are not allowed."""
    tables = tenant_tables()
    problems = []
    for statement in sorted(statements):
        if allowed(statement):
            continue
        if missing := unconstrained_tables(statement, tables):
            problems.append(f"{sorted(set(missing))}: {' '.join(statement.split())[:600]}")
    return problems
