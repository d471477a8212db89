"""Imports inside stats/ flow one way (endpoints -> service -> params/planner -> reports ->
families -> reads and SQL -> runner and definitions), and a stats request needs nothing of the
rollups write side."""

import ast
from pathlib import Path

import sightline.stats

RANKS = {
    "endpoints": 0, "bodies": 1, "service": 1, "params": 2, "planner": 2, "reports": 3,
    "base_reports": 4, "rollup_reports": 4, "columnar": 4,
    "schemas": 5, "shape": 5, "rollup_read": 5,
    "context": 6, "tables": 6, "funnel": 6, "filters": 6, "aggregate": 6, "sql": 6,
    "runner": 7, "metrics": 7, "periods": 7, "query": 7,
}
OUTSIDE = ("sightline.models", "sightline.cache", "sightline.problems", "sightline.projects",
           "sightline.auth", "sightline.db", "sightline.state", "sightline.exports",
           "sightline.replicas", "sightline.segments")


def rank(module: str) -> int:
    name = module.removeprefix("sightline.stats.").split(".")[0]
    return RANKS[name]


def imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sightline"):
            if node.module == "sightline.stats":
                found += [f"sightline.stats.{alias.name}" for alias in node.names]
            else:
                found.append(node.module)
    return found


def test_stats_imports_flow_one_way_and_never_into_rollups():
    root = Path(sightline.stats.__file__).parent
    for path in root.rglob("*.py"):
        if path.name == "__init__.py":
            continue
        module = ".".join(path.relative_to(root).with_suffix("").parts)
        for imported in imports(path):
            if imported.startswith("sightline.stats"):
                assert rank(imported) >= rank(module), (module, imported)
            else:
                assert imported.startswith(OUTSIDE), (module, imported)
