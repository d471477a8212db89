"""CSV exports of every stats, query, widget and dashboard response (RFC 4180).

One generic function over the JSON body, applied where responses are rendered (after the
cache): a cached entry is always JSON, CSV is made from it on the way out, so the two never mix.
A client asks with `Accept: text/csv` or `format=csv`.

Rows, with a header row of every column in first-seen order:
- `results` is a list (breakdowns, timeseries, funnel, retention): one row per item.
- `results` maps names to objects (overview): one row per name, its name in a `metric` column
  (`metric,value,previous,change`).
- `results` holds one list of objects (active-users `days`, realtime `pages`): one row per item,
  the object's other fields repeated as columns (prefixed `total_` when an item has that name).
- Any other object (revenue): one row.
Inside a row, a nested object becomes `name.field` columns and a list of values `name.0`,
`name.1`, … (retention's `retention.0`). A dashboard gives every widget's rows after a `widget`
and a `widget_title` column. Empty cells are nulls.
"""

import csv
import io
from collections.abc import Iterable
from typing import Any

import orjson
from starlette.requests import Request

from sightline.problems import InvalidParameter

CSV = "text/csv; charset=utf-8"
FORMATS = ("json", "csv")
Row = dict[str, Any]
# For /docs: the `format` parameter and the CSV alternative of a 200 answer
FORMAT_PARAMETER = {
    "name": "format", "in": "query", "required": False,
    "description": "csv: RFC 4180 CSV of `results` with a header row (as `Accept: text/csv`)",
    "schema": {"type": "string", "enum": list(FORMATS), "default": "json"},
}
CSV_CONTENT = {"text/csv": {"schema": {"type": "string"},
                            "example": "page,visitors,pageviews\r\n/,1062,1892\r\n"}}


def wants_csv(request: Request) -> bool:
    requested = request.query_params.get("format")
    if requested is not None:
        return requested == "csv"
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept


def query_items(request: Request) -> list[tuple[str, str]]:
    """The query parameters a report reads: `format` (json or csv) is the response's business."""
    items = request.query_params.multi_items()
    for name, value in items:
        if name == "format" and value not in FORMATS:
            raise InvalidParameter("format", "format must be json or csv", allowed=list(FORMATS))
    return [(name, value) for name, value in items if name != "format"]


def flatten(value: Any, prefix: str, row: Row) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            flatten(inner, f"{prefix}.{key}" if prefix else str(key), row)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            flatten(inner, f"{prefix}.{index}", row)
    else:
        row[prefix] = value


def flat(item: Any) -> Row:
    row: Row = {}
    flatten(item if isinstance(item, dict) else {"value": item}, "", row)
    return row


def result_rows(results: Any) -> list[Row]:
    if isinstance(results, list):
        return [flat(item) for item in results]
    if not isinstance(results, dict):
        return [flat(results)]
    if results and all(isinstance(v, dict) for v in results.values()):
        return [{"metric": name, **flat(value)} for name, value in results.items()]
    lists = [name for name, v in results.items()
             if isinstance(v, list) and v and all(isinstance(i, dict) for i in v)]
    if len(lists) == 1:
        rest = flat({k: v for k, v in results.items() if k != lists[0]})
        rows = []
        for item in results[lists[0]]:
            row = flat(item)
            rows.append({**row, **{(f"total_{k}" if k in row else k): v for k, v in rest.items()}})
        return rows
    return [flat(results)]


def body_rows(body: dict[str, Any]) -> list[Row]:
    """The rows of a response body: a report's `results`, a widget's `data`, a dashboard's
    widgets one after another."""
    if "results" in body:
        return result_rows(body["results"])
    if "data" in body:
        return body_rows(body["data"])
    rows = []
    for widget in body.get("widgets", []):
        for row in body_rows(widget.get("data") or {}):
            rows.append({"widget": widget["id"], "widget_title": widget["title"], **row})
    return rows


def cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def write_csv(rows: Iterable[Row]) -> bytes:
    rows = list(rows)
    columns = list(dict.fromkeys(name for row in rows for name in row))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180: CRLF, quotes only where needed
    writer.writerow(columns)
    writer.writerows([cell(row.get(name)) for name in columns] for row in rows)
    return out.getvalue().encode()


def to_csv(json_body: bytes) -> bytes:
    return write_csv(body_rows(orjson.loads(json_body)))


def csv_etag(etag: str) -> str:
    """The CSV representation's own validator (a JSON ETag must not validate a CSV copy)."""
    return etag[:-1] + '-csv"'
