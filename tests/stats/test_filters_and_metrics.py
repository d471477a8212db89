from decimal import Decimal
from fractions import Fraction

import pytest

from sightline.problems import InvalidParameter
from sightline.stats import metrics
from sightline.stats.filters import parse_filters
from sightline.stats.query import Filter


def test_filters_split_on_unescaped_separators_and_sort():
    parsed = parse_filters(r"page==/a\|b|/c;country!=DE;prop:note=@x\;y\\")
    assert parsed == (
        Filter("country", "!=", ("DE",)),
        Filter("page", "==", ("/a|b", "/c")),
        Filter("prop:note", "=@", ("x;y\\",)),
    )


@pytest.mark.parametrize("text", ["nope==1", "page", "prop:==x"])
def test_bad_filters_are_400(text):
    with pytest.raises(InvalidParameter):
        parse_filters(text)


def test_rounding_is_half_away_from_zero_on_exact_values():
    assert metrics.percent(1, 8) == 12.5
    assert metrics.percent(1, 3) == 33.3
    assert metrics.two_decimals(Decimal("2.675")) == 2.68
    assert metrics.seconds(5, 2) == 3
    assert metrics.percent(1, 0) == 0


def test_change_is_relative_to_unrounded_previous():
    assert metrics.change(Fraction(3), Fraction(2)) == 50.0
    assert metrics.change(Fraction(1), Fraction(0)) is None
