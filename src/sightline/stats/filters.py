"""Parse the `filters` parameter: conditions joined by `;`, values joined by `|`, `\\` escapes."""

from sightline.problems import InvalidParameter
from sightline.stats.query import OPERATORS, Filter, is_known_dimension

ESCAPABLE = "|;\\"
MAX_CONDITIONS = 20  # SPEC section 7
MAX_VALUES = 100


def split_unescaped(text: str, separator: str) -> list[str]:
    """Split on separators not preceded by a backslash escape; escapes are kept for later."""
    parts, current, index = [], [], 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            current.append(text[index: index + 2])
            index += 2
            continue
        if char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    parts.append("".join(current))
    return parts


def unescape(text: str) -> str:
    out, index = [], 0
    while index < len(text):
        if text[index] == "\\" and index + 1 < len(text) and text[index + 1] in ESCAPABLE:
            out.append(text[index + 1])
            index += 2
        else:
            out.append(text[index])
            index += 1
    return "".join(out)


def parse_condition(condition: str) -> Filter:
    positions = [(condition.find(op), op) for op in OPERATORS if condition.find(op) > 0]
    if not positions:
        raise InvalidParameter("filters", f"condition {condition!r} has no operator",
                               allowed=list(OPERATORS))
    position, operator = min(positions)
    dimension = condition[:position].strip()
    if not is_known_dimension(dimension):
        raise InvalidParameter("filters", f"unknown filter dimension {dimension!r}")
    values = tuple(unescape(v) for v in split_unescaped(condition[position + 2:], "|"))
    return Filter(dimension, operator, values)


def parse_filters(text: str | None) -> tuple[Filter, ...]:
    if not text:
        return ()
    conditions = [c for c in split_unescaped(text, ";") if c.strip()]
    if len(conditions) > MAX_CONDITIONS:
        raise InvalidParameter("filters", f"at most {MAX_CONDITIONS} conditions")
    parsed = [parse_condition(c) for c in conditions]
    if sum(len(f.values) for f in parsed) > MAX_VALUES:
        raise InvalidParameter("filters", f"at most {MAX_VALUES} values in all conditions")
    return tuple(sorted(parsed, key=lambda f: (f.dimension, f.operator, f.values)))
