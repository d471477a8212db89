"""Reading the daily rollups: which days are built, their rows of one dimension, the first day."""

from datetime import date

from sqlalchemy import Date, Select, Table, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY

from sightline.models import RollupDay, RollupState
from sightline.stats.metrics import MEASURES, measures
from sightline.stats.sql.day_rows import TOTAL, is_rollup_session_dimension

ROLLUP_DAY: Table = RollupDay.__table__  # type: ignore[assignment]
ROLLUP_STATE: Table = RollupState.__table__  # type: ignore[assignment]


def select_built_days(project_id: str, first: date, last: date) -> Select:
    s = ROLLUP_STATE.c
    return select(s.day, s.built_version).where(s.project_id == project_id, s.day >= first,
                                                s.day <= last, s.built_version == s.version)


def stored_columns(dimension: str) -> tuple[str, ...]:
    """The columns a dimension's rows fill: every measure for totals, else its table's."""
    if dimension == TOTAL:
        return tuple(m.column for m in MEASURES)
    table = "session" if is_rollup_session_dimension(dimension) else "event"
    return tuple(m.column for m in measures(table))


def select_day_rows(project_id: str, days: list[date], dimension: str) -> Select:
    """Built rows of one dimension, with only the columns that dimension fills."""
    c = ROLLUP_DAY.c
    return (select(c.day, c.dimension, c.value, *(c[name] for name in stored_columns(dimension)))
            .where(c.project_id == project_id,
                   c.day == bindparam("days", days, type_=ARRAY(Date), unique=True).any_(),
                   c.dimension == dimension))


def select_first_day(project_id: str) -> Select:
    """The first local day the project has data for (any day ingest ever touched)."""
    return select(func.min(ROLLUP_STATE.c.day).label("day")).where(
        ROLLUP_STATE.c.project_id == project_id)
