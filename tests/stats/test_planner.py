"""The planner takes the first family of a report's entry whose conditions the query meets."""

from datetime import UTC, datetime

import pytest

from sightline.models import Goal
from sightline.stats.context import Context
from sightline.stats.params import parse_query
from sightline.stats.planner import choose_family
from sightline.stats.reports import BASE, ROLLUPS

NOW = datetime(2024, 5, 10, 12, tzinfo=UTC)


def family(report: str, *items: tuple[str, str], goals: tuple[Goal, ...] = ()) -> str:
    ctx = Context(None, "p", "Europe/Berlin", NOW, goals)  # type: ignore[arg-type]
    return choose_family(ctx, parse_query(report, items, "Europe/Berlin", NOW))


@pytest.mark.parametrize(("report", "items"), [
    ("overview", ()), ("pages", ()), ("timeseries", (("interval", "week"),)),
    ("breakdown", (("dimension", "prop:plan"),)), ("retention", ()), ("properties/plan", ()),
])
def test_unfiltered_queries_in_the_project_zone_use_rollups(report, items):
    assert family(report, *items) == ROLLUPS


@pytest.mark.parametrize(("report", "items"), [
    ("pages", (("filters", "country==DE"),)), ("overview", (("tz", "UTC"),)),
    ("timeseries", (("interval", "hour"), ("period", "today"))),
    ("properties/plan", (("event", "buy"),)), ("realtime", ()),
    ("funnel", (("step", "page:/"), ("step", "event:buy"))),
])
def test_filters_other_zones_hours_and_base_only_reports_use_the_base_tables(report, items):
    assert family(report, *items) == BASE


def test_a_goal_on_pageview_events_needs_the_base_tables():
    pageview_goal = Goal(project_id="p", id="g", name="g", event="pageview", page=None)
    assert family("goals") == ROLLUPS
    assert family("goals", goals=(pageview_goal,)) == BASE
