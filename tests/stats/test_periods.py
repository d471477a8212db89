"""Calendar buckets in a zone, across DST, computed against explicit dates."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sightline.stats import periods

BERLIN = ZoneInfo("Europe/Berlin")


def test_dst_days_have_23_and_25_hour_buckets():
    spring = periods.buckets(date(2024, 3, 31), date(2024, 3, 31), BERLIN, "hour")
    autumn = periods.buckets(date(2024, 10, 27), date(2024, 10, 27), BERLIN, "hour")
    assert len(spring.labels) == 23
    assert len(autumn.labels) == 25
    assert autumn.labels[2:4] == ["2024-10-27T02:00:00+02:00", "2024-10-27T02:00:00+01:00"]


def test_week_and_month_labels_are_calendar_starts_but_counting_starts_at_the_range():
    weeks = periods.buckets(date(2024, 3, 6), date(2024, 3, 12), BERLIN, "week")
    assert weeks.labels == ["2024-03-04", "2024-03-11"]
    assert weeks.thresholds[0] == datetime(2024, 3, 5, 23, tzinfo=UTC)
    months = periods.buckets(date(2024, 1, 15), date(2024, 2, 2), UTC, "month")
    assert months.labels == ["2024-01-01", "2024-02-01"]


def test_day_starts_where_dst_skips_midnight():
    santiago = ZoneInfo("America/Santiago")
    assert periods.day_start(date(2024, 9, 8), santiago) == datetime(2024, 9, 8, 4, tzinfo=UTC)


def test_half_hour_zone_hour_buckets_are_labelled_locally():
    kolkata = periods.buckets(date(2024, 1, 1), date(2024, 1, 1), ZoneInfo("Asia/Kolkata"), "hour")
    assert kolkata.labels[0] == "2024-01-01T00:00:00+05:30"
    assert kolkata.thresholds[0] == datetime(2023, 12, 31, 18, 30, tzinfo=UTC)


def test_periods_and_comparisons():
    today = date(2024, 3, 31)
    assert periods.period_range("7d", today) == (date(2024, 3, 25), today)
    assert periods.period_range("12mo", today) == (date(2023, 4, 1), today)
    assert periods.comparison_range("previous_period", date(2024, 3, 1), date(2024, 3, 10)) == (
        date(2024, 2, 20), date(2024, 2, 29))
    assert periods.comparison_range("year_over_year", date(2024, 2, 29), date(2024, 2, 29)) == (
        date(2023, 2, 28), date(2023, 2, 28))


def test_cohort_starts_list_only_buckets_starting_in_range():
    assert periods.cohort_starts(date(2024, 3, 6), date(2024, 3, 20), "week") == [
        date(2024, 3, 11), date(2024, 3, 18)]
