"""Real server processes for the benchmark, their CPU time, and the load generator process."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_of(pid: int) -> float:
    """User + system CPU seconds of one process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


def tree_of(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo += children_of(current)
    return pids


@dataclass
class Server:
    """`sightline serve --workers N` on a loopback port, started and stopped by the benchmark."""

    port: int
    workers: int
    env: dict[str, str]
    log_path: Path | None = None
    kind: str = "serve"   # or "worker": `sightline worker` (background jobs, rollup builds)
    process: subprocess.Popen[bytes] | None = None
    pids: list[int] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        command = [str(Path(sys.executable).with_name("sightline")), self.kind]
        if self.kind == "serve":
            command += ["--host", "127.0.0.1", "--port", str(self.port),
                        "--workers", str(self.workers)]
        log = self.log_path or Path(os.devnull)
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as output:
            self.process = subprocess.Popen(command, env={**os.environ, **self.env},
                                            stdout=output, stderr=output,
                                            start_new_session=True)
        deadline = time.monotonic() + timeout
        if self.kind != "serve":
            time.sleep(1)
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} exited; see {log}")
            self.pids = tree_of(self.process.pid)
            return
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited; see {log}")
            try:
                with urllib.request.urlopen(self.base + "/readyz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            self.stop()
            raise RuntimeError(f"server on port {self.port} did not become ready")
        time.sleep(0.5 if self.workers > 1 else 0)  # let every worker finish its start-up
        self.pids = tree_of(self.process.pid)

    def cpu(self) -> float:
        return sum(cpu_of(pid) for pid in self.pids)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # the group of the server we started
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self.process = None


async def run_load(job: dict[str, Any]) -> dict[str, Any]:
    """Run one load job in a separate process (so its CPU never competes inside the server)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sightline.bench.loadgen", stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    limit = float(job.get("duration", 600)) + float(job.get("timeout", 30)) + 60
    out, err = await asyncio.wait_for(process.communicate(json.dumps(job).encode()), limit)
    if process.returncode != 0:
        raise RuntimeError("load generator failed: " + err.decode()[-2000:])
    return json.loads(out)  # type: ignore[no-any-return]
