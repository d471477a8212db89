"""Each measure is defined once; the rollup table, the day-row statements and the base-table
SQL all follow the registry."""

from sqlalchemy import Integer, LargeBinary, Numeric

from sightline.models import RollupDay
from sightline.stats.metrics import MEASURES, METRICS, UNITS
from sightline.stats.sql.day_rows import EVENT_DAY_ROWS, SESSION_DAY_ROWS

KEY_COLUMNS = {"project_id", "day", "dimension", "value"}
COLUMN_TYPES = {"count": Integer, "sum": Numeric, "union": LargeBinary}


def test_the_rollup_table_stores_exactly_the_measures_in_the_type_of_their_combination():
    table = RollupDay.__table__
    assert {c.name for c in table.columns} - KEY_COLUMNS == {m.column for m in MEASURES}
    for measure in MEASURES:
        assert isinstance(table.c[measure.column].type, COLUMN_TYPES[measure.combine])


def test_day_rows_compute_every_measure_with_day_sql():
    computed = {c.name for c in (*EVENT_DAY_ROWS.selected_columns,
                                 *SESSION_DAY_ROWS.selected_columns)}
    assert {m.column for m in MEASURES if m.day} <= computed
    assert all(m.base is not None for m in MEASURES if m.day)


def test_every_metric_has_a_unit():
    assert set(UNITS) == set(METRICS)
