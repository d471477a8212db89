"""Parquet segments on disk: one directory per project, one segment per local month.

A segment is a directory `<month>.<token>/` holding `events.parquet` (events of its days, each
with its session's attributes) and `sessions.parquet` (sessions starting on its days). It is
written under a temporary name, then renamed; `manifest.json` lists the segments in use with
the day versions (rollup_state) they were built from, and is replaced atomically under a file
lock. Readers take the manifest as it is when they start; a replaced segment directory is
deleted only after a grace period, so a query that is still reading it finishes.
"""

import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

MANIFEST = "manifest.json"
EVENTS_FILE = "events.parquet"
SESSIONS_FILE = "sessions.parquet"
GRACE_SECONDS = 600  # a replaced segment stays readable this long


@dataclass(frozen=True)
class Segment:
    month: str  # YYYY-MM, in the project's zone
    directory: Path
    first_day: date
    last_day: date
    versions: dict[date, int]  # rollup_state version of each day with data, when built
    timezone: str  # the project's zone its days and months are cut in

    @property
    def events_file(self) -> Path:
        return self.directory / EVENTS_FILE

    @property
    def sessions_file(self) -> Path:
        return self.directory / SESSIONS_FILE

    def as_json(self) -> dict[str, object]:
        return {"month": self.month, "directory": self.directory.name,
                "first_day": self.first_day.isoformat(), "last_day": self.last_day.isoformat(),
                "versions": {d.isoformat(): v for d, v in sorted(self.versions.items())},
                "timezone": self.timezone}


def segment_of(entry: dict[str, object], base: Path) -> Segment:
    versions = entry["versions"]
    assert isinstance(versions, dict)
    return Segment(str(entry["month"]), base / str(entry["directory"]),
                   date.fromisoformat(str(entry["first_day"])),
                   date.fromisoformat(str(entry["last_day"])),
                   {date.fromisoformat(d): int(v) for d, v in versions.items()},
                   str(entry["timezone"]))


class SegmentStore:
    def __init__(self, root: Path):
        self.root = root
        self.cached: dict[str, tuple[tuple[int, int], tuple[Segment, ...]]] = {}

    def project_dir(self, project_id: str) -> Path:
        return self.root / project_id

    def segments(self, project_id: str, timezone: str | None = None) -> tuple[Segment, ...]:
        """The segments in use, by month (only those cut in `timezone` when given: a project
        moved to another zone reads none of its old ones); re-read only when the manifest
        file changed."""
        if timezone is not None:
            return tuple(s for s in self.segments(project_id) if s.timezone == timezone)
        path = self.project_dir(project_id) / MANIFEST
        try:
            stat = path.stat()
        except FileNotFoundError:
            return ()
        signature = (stat.st_mtime_ns, stat.st_ino)
        cached = self.cached.get(project_id)
        if cached is not None and cached[0] == signature:
            return cached[1]
        entries = json.loads(path.read_text())["segments"]
        segments = tuple(segment_of(e, path.parent) for e in entries)
        self.cached[project_id] = (signature, segments)
        return segments

    def new_directory(self, project_id: str, month: str) -> Path:
        base = self.project_dir(project_id)
        base.mkdir(parents=True, exist_ok=True)
        return base / f"{month}.{os.urandom(6).hex()}.tmp"

    @contextmanager
    def locked(self, project_id: str) -> Iterator[None]:
        """One writer of a project's manifest at a time, across processes."""
        base = self.project_dir(project_id)
        base.mkdir(parents=True, exist_ok=True)
        with open(base / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def publish(self, project_id: str, written: Path, segment: Segment) -> Segment:
        """Rename a written segment into place and list it in the manifest (replacing the
        month's previous segment)."""
        final = written.with_name(written.name.removesuffix(".tmp"))
        written.rename(final)
        placed = Segment(segment.month, final, segment.first_day, segment.last_day,
                         segment.versions, segment.timezone)
        with self.locked(project_id):
            self.cached.pop(project_id, None)
            current = self.segments(project_id)
            for replaced in (s for s in current if s.month == segment.month):
                os.utime(replaced.directory)  # unlisted now: its grace period starts
            kept = [s for s in current if s.month != segment.month]
            listed = sorted([*kept, placed], key=lambda s: s.month)
            self.write_manifest(project_id, listed)
            self.collect_garbage(project_id, {s.directory.name for s in listed})
        return placed

    def write_manifest(self, project_id: str, segments: list[Segment]) -> None:
        path = self.project_dir(project_id) / MANIFEST
        temporary = path.with_name(f"{MANIFEST}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps({"segments": [s.as_json() for s in segments]}))
        os.replace(temporary, path)

    def drop(self, project_id: str) -> None:
        """Forget every segment of a project (they are rebuilt from the database)."""
        with self.locked(project_id):
            self.cached.pop(project_id, None)
            for replaced in self.segments(project_id):
                os.utime(replaced.directory)
            self.write_manifest(project_id, [])
            self.collect_garbage(project_id, set())

    def collect_garbage(self, project_id: str, listed: set[str]) -> None:
        """Delete segment directories no longer listed once no reader can still use them."""
        cutoff = time.time() - GRACE_SECONDS
        for path in self.project_dir(project_id).iterdir():
            if path.is_dir() and path.name not in listed and path.stat().st_mtime < cutoff:
                shutil.rmtree(path, ignore_errors=True)
