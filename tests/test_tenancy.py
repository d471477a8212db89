"""Citus readiness: the tables lead with the project id, and the statement check (run over
every statement the product sends during the suite, see conftest.product_statements) tells a
statement pinned to one project from one that is not."""

from sqlalchemy import Index, UniqueConstraint

from sightline.db import Base
from tests import tenancy

TENANT_TABLES = {"event", "session", "visitor", "rollup_day", "rollup_state", "goal",
                 "dashboard", "widget", "api_key", "share_token", "job", "job_turn"}


def leading_columns(table) -> list[tuple[str, list[str]]]:
    keys = [("primary key", [c.name for c in table.primary_key.columns])]
    keys += [(c.name or "unique", [col.name for col in c.columns]) for c in table.constraints
             if isinstance(c, UniqueConstraint)]
    keys += [(i.name or "index", [col.name for col in i.columns]) for i in table.indexes
             if isinstance(i, Index) and i.unique]
    return keys


def test_every_key_and_unique_index_of_a_tenant_table_leads_with_the_project_id():
    tenancy.tenant_tables()  # imports every model
    tables = {t.name: t for t in Base.metadata.sorted_tables}
    assert TENANT_TABLES <= set(tables)
    # Unique by a secret alone: these tables are reference tables (docs/scaling.md).
    reference = {("api_key", "uq_api_key_key_hash"), ("share_token", "uq_share_token_token_hash")}
    wrong = [(name, key, columns) for name in sorted(TENANT_TABLES)
             for key, columns in leading_columns(tables[name])
             if columns[0] != "project_id" and (name, key) not in reference]
    assert wrong == []
    assert [c.name for c in tables["project"].primary_key.columns] == ["id"]


def test_a_statement_pinned_to_a_project_passes():
    tables = {"event", "session", "widget", "project"}
    for sql in (
        "SELECT e.x FROM event AS e JOIN session s ON s.project_id = e.project_id"
        " WHERE e.project_id = $1",
        "SELECT count(*) FROM event WHERE project_id = $1 AND ts >= $2",
        "SELECT * FROM widget WHERE (widget.project_id, widget.dashboard_id) IN (($1, $2))",
        "INSERT INTO event (project_id, id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        "UPDATE session SET n = 1 WHERE session.project_id = $1",
        "DELETE FROM event WHERE project_id = ANY($1)",
        "SELECT project.name FROM project WHERE project.id = $1",
        "SELECT x FROM (SELECT x FROM event WHERE project_id = $1) AS t",
    ):
        assert tenancy.unconstrained_tables(sql, tables) == [], sql


def test_a_statement_that_would_visit_every_node_is_caught():
    tables = {"event", "session", "project"}
    assert tenancy.unconstrained_tables("SELECT count(*) FROM event", tables) == ["event"]
    assert tenancy.unconstrained_tables(
        "SELECT * FROM event e JOIN session s ON s.visitor_id = e.visitor_id"
        " WHERE e.project_id = $1", tables) == ["session"]
    assert tenancy.unconstrained_tables(
        "SELECT * FROM event WHERE project_id = $1 AND visitor_id IN"
        " (SELECT visitor_id FROM session WHERE ts > $2)", tables) == ["session"]
    assert tenancy.unconstrained_tables("UPDATE project SET name = $1", tables) == ["project"]


async def test_statements_are_told_apart_by_whose_code_sent_them(db):
    """The suite-wide check sees the product's statements, not the tests' own."""
    from sqlalchemy import event, text
    from sqlalchemy.engine import Engine

    from sightline.projects import service as projects
    from tests.factories import make_project

    project = await make_project(db)
    seen: list[tuple[str, str | None]] = []

    def record(conn, cursor, statement, *args):
        seen.append((statement.split(None, 1)[0], tenancy.origin()))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        await projects.get_project(db, project.id)
        await db.execute(text("SELECT 1"))
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert seen == [("SELECT", "product"), ("SELECT", "test")]
