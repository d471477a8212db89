"""docs/benchmarks.md and docs/bench-latency.png from one run's rows and machine facts."""

from pathlib import Path
from typing import Any

CHART = "bench-latency.png"
NOTES_START, NOTES_END = "<!-- notes -->", "<!-- /notes -->"


def kept_notes(path: Path) -> list[str]:
    """The hand-written observations between the notes markers survive a new run."""
    try:
        text = path.read_text()
    except OSError:
        return []
    start, end = text.find(NOTES_START), text.find(NOTES_END)
    if start < 0 or end < start:
        return []
    return ["", text[start:end + len(NOTES_END)]]


def cell(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}" if value < 1000 else f"{value:,.0f}"


def ratios(bench: Any) -> list[tuple[str, float | None, float | None, float | None]]:
    """Per endpoint: warm p50, cold p50, raw p50 (ms)."""
    by = {(r.scenario, r.name): r.p50_ms for r in bench.rows}
    warm = {r.name: r.extra.get("sequential_p50_ms") for r in bench.rows if r.scenario == "2 warm"}
    rows = []
    for report, _ in bench.endpoints:
        rows.append((report, warm.get(report), by.get(("3 cold", report)),
                     by.get(("4 raw", report))))
    return rows


def write_chart(bench: Any, path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    data = [r for r in ratios(bench) if any(v for v in r[1:])]
    if not data:
        return False
    names = [r[0] for r in data]
    fig, ax = plt.subplots(figsize=(10, 0.42 * len(names) + 1.5))
    height = 0.27
    for offset, (label, index, color) in enumerate((("warm (cache hit)", 1, "#2b8a3e"),
                                                    ("cold (cache bypassed)", 2, "#1c7ed6"),
                                                    ("raw events SQL", 3, "#e8590c"))):
        values = [r[index] or 0 for r in data]
        ax.barh([i + (offset - 1) * height for i in range(len(names))], values, height,
                label=label, color=color)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("p50 latency, ms, one request at a time (log scale)")
    ax.set_title(f"Sightline: p50 per endpoint, 30 days of the largest project "
                 f"({bench.project.events:,} events)")
    ax.legend(loc="lower right")
    ax.grid(axis="x", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def write_report(bench: Any, output: Path) -> None:
    output.mkdir(parents=True, exist_ok=True)
    facts, dataset, timing = bench.facts, bench.dataset, bench.timing
    floor = facts.get("floor_rps")
    lines = [
        "# Benchmarks",
        "",
        "Measured by `sightline bench` (`make bench`; `sightline bench --quick` for development).",
        "Absolute times drift on a shared machine; read the ratios (against the floor, against",
        "the raw path), which are measured within one run.",
        "",
        "## Machine and run",
        "",
        f"- {facts['date']}, commit {facts['commit']}, mode `{facts['mode']}`",
        f"- CPU: {facts['cpu']}, {facts['cores']} cores (shared; load average at start "
        f"{facts['load_average']})",
        f"- PostgreSQL {facts.get('postgresql')}, Redis {facts.get('redis')}, Python "
        f"{facts['python']}; {facts['packages']}",
        f"- `sightline serve --workers {facts['workers']}` (uvicorn, uvloop, httptools) on "
        "loopback, against that PostgreSQL and Redis",
        f"- Data: {dataset.events:,} events in {len(dataset.projects)} projects, seeded by "
        f"`sightline seed` at {dataset.seed_events_per_second:,} events/s; the largest project "
        f"has {bench.project.events:,} events over {bench.project.days} days "
        f"({bench.project.timezone}); ranges end {dataset.end[:10]}",
        f"- Scenarios took {facts.get('scenario_seconds')} s (whole run "
        f"{facts.get('total_seconds')} s)",
        "",
        "## Results",
        "",
        "Latency in ms. *in flight*: closed loop, that many requests outstanding at all times",
        "(full throughput). *open loop N/s*: requests sent on a fixed schedule whatever the",
        "answers do, latency counted from the scheduled instant (no coordinated omission).",
        "*q/req*: database statements per request (the probe server's /metrics).",
        "*× floor p50*: p50 over the floor's p50 measured the same way (closed loop, open loop",
        "or sequential).",
        "",
        "| scenario | case | p50 | p95 | p99 | req/s | q/req | × floor p50 | note |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    floors = {r.extra.get("kind"): r.p50_ms for r in reversed(bench.rows)
              if r.scenario == "1 floor" and r.name.startswith("fixed bytes,") and r.p50_ms}
    for r in bench.rows:
        floor_p50 = floors.get(r.extra.get("kind"))
        times = (f"{r.p50_ms / floor_p50:,.1f}" if r.p50_ms and floor_p50 else "–")
        note = r.note
        if "hit_ratio" in r.extra and r.scenario == "2 warm":
            note = (note + f" hits {r.extra['hit_ratio']:.0%}").strip()
        lines.append(f"| {r.scenario} | {r.name} | {cell(r.p50_ms, 2)} | {cell(r.p95_ms, 2)} | "
                     f"{cell(r.p99_ms, 2)} | {cell(r.rps)} | {cell(r.queries, 2)} | {times} | "
                     f"{note} |")
    lines += ["", "## Warm, cold and raw per endpoint", "",
              "p50 in ms, one request at a time, over the same 30-day range of the largest",
              "project: *warm* is a cache hit, *cold* recomputes (`Cache-Control: no-cache`), *raw*",
              "is plain SQL over the `event` table only (`src/sightline/bench/raw_queries.py`, no",
              "session table, no rollups; timed at the database, without HTTP).", "",
              "| endpoint | warm | cold | raw | cold ÷ warm | raw ÷ cold |",
              "|---|---:|---:|---:|---:|---:|"]
    for name, warm, cold, raw in ratios(bench):
        lines.append(
            f"| {name} | {cell(warm, 2)} | {cell(cold, 2)} | {cell(raw, 2)} | "
            f"{cell(cold / warm) if cold and warm else '–'} | "
            f"{cell(raw / cold, 2) if raw and cold else '–'} |")
    if write_chart(bench, output / CHART):
        lines += ["", f"![p50 per endpoint: warm, cold, raw]({CHART})"]
    lines += [
        "", "## Is the load generator the bottleneck?", "",
        "The load generator (`src/sightline/bench/loadgen.py`: asyncio streams on uvloop, "
        "keep-alive connections) runs in its own process.",
    ]
    if floor:
        lines.append(
            f"At the floor ({floor:,.0f} req/s) it used {facts.get('loadgen_cpu_per_s')} CPU "
            f"seconds per second ({facts.get('loadgen_us_per_request')} µs per request) while "
            f"the {facts['workers']} server workers used {facts.get('server_cpu_per_s')}: the "
            "servers, not the generator, set the pace (on 2 shared cores both compete for the "
            "same CPUs, so the floor is a lower bound of what the server stack can do).")
    if facts.get("wrk_floor_rps"):
        lines.append(f"`wrk` on the same route: {facts['wrk_floor_rps']:,.0f} req/s.")
    lines += kept_notes(output / "benchmarks.md")
    lines += [
        "", "## How to run", "",
        "```sh",
        "make bench          # or: sightline bench [--workers 2] [--database-url URL]",
        "make bench-quick    # --quick: smaller data, short runs, < 3 min; writes bench/.results/quick/",
        "```",
        "",
        "The first run creates and seeds its own database (`sightline_bench`, 10 million events;",
        "`sightline_bench_quick` for --quick) and later runs reuse it. PostgreSQL and Redis are",
        "the ones at `--database-url` / `--redis-url` (default 127.0.0.1). The scenarios:",
        "1 floor (fixed bytes, and fixed bytes from Redis); 2 each stats endpoint warm, "
        f"{timing.concurrency} in flight; 3 each endpoint cold, sequential; 3b filtered and "
        "ad-hoc questions cold (filters, funnels, hours, another zone) over 30 and 365 days; "
        "4 the raw path; 5 a 12-widget dashboard warm and cold; 6 a realistic mix (90% "
        f"repeated, 10% new ranges and filters), open loop at {timing.mix_rate}/s, with ingest at "
        "1,000 events/s; 7 ingest throughput through the HTTP API in batches of 1,000; 8 "
        "single-event browser beacons (POST /api/v1/collect, group commit), the most in flight "
        f"and an open loop at 5,000/s; 9 a fresh project: {timing.fresh_events:,} events "
        "ingested through the API with no worker running, then each endpoint once, uncached.",
        "",
    ]
    (output / "benchmarks.md").write_text("\n".join(lines))
