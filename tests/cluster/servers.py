"""Real servers for the scale-out tests, each on its own ports and temporary directory: a
PostgreSQL primary with a streaming replica (sightline.bench.postgres: initdb, pg_basebackup,
pg_ctl), a Redis Cluster of three masters with a replica each, and `sightline serve` /
`sightline worker` processes.

Nothing here touches the machine's shared PostgreSQL or Redis. Every start fails loudly: the
suite never skips because a server is missing.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sightline.bench.postgres import Postgres, run
from tests.services import listening, redis_binary

SIGHTLINE = str(Path(sys.executable).parent / "sightline")
__all__ = ["Postgres", "Process", "RedisCluster", "free_ports", "wait_for"]


def free_ports(count: int, offset: int = 0) -> list[int]:
    """`count` free ports whose `port + offset` is free too (Redis Cluster's bus port)."""
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port + offset < 65536 and port not in ports and (
                offset == 0 or not listening("127.0.0.1", port + offset)):
            ports.append(port)
    return ports


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.1)


@dataclass
class RedisNode:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def cli(self, *args: str) -> str:
        done = subprocess.run(["redis-cli", "-p", str(self.port), *args], capture_output=True,
                              text=True, timeout=10)
        return done.stdout

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)


@dataclass
class RedisCluster:
    """Three masters, each with one replica (a killed master fails over to it)."""

    root: Path
    nodes: list[RedisNode] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"redis+cluster://{self.nodes[0].address}"

    @classmethod
    def start(cls, size: int = 6) -> "RedisCluster":
        cluster = cls(Path(tempfile.mkdtemp(prefix="sightline-redis-cluster-")))
        try:
            for port in free_ports(size, offset=10000):
                process = subprocess.Popen(
                    [redis_binary(), "--port", str(port), "--bind", "127.0.0.1",
                     "--cluster-enabled", "yes", "--cluster-config-file", f"nodes-{port}.conf",
                     "--cluster-node-timeout", "1000", "--cluster-require-full-coverage", "no",
                     "--save", "", "--appendonly", "no", "--dir", str(cluster.root)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                cluster.nodes.append(RedisNode(port, process))
            for node in cluster.nodes:
                wait_for(lambda node=node: listening("127.0.0.1", node.port), "redis-server")
            run(["redis-cli", "--cluster", "create", *(n.address for n in cluster.nodes),
                 "--cluster-replicas", "1", "--cluster-yes"])
            wait_for(cluster.healthy, "the Redis Cluster")
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def healthy(self) -> bool:
        live = [n for n in self.nodes if n.process.poll() is None]
        return all("cluster_state:ok" in n.cli("cluster", "info") for n in live)

    def master_of(self, key: str) -> RedisNode:
        slot = int(self.nodes[0].cli("cluster", "keyslot", key).strip())
        for line in self.nodes[0].cli("cluster", "nodes").splitlines():
            parts = line.split()
            if "master" not in parts[2] or "fail" in parts[2]:
                continue
            for span in parts[8:]:
                first, _, last = span.partition("-")
                if first.isdigit() and int(first) <= slot <= int(last or first):
                    port = int(parts[1].split("@")[0].rsplit(":", 1)[1])
                    return next(n for n in self.nodes if n.port == port)
        raise RuntimeError(f"no master serves the slot of {key}")

    def stop(self) -> None:
        for node in self.nodes:
            if node.process.poll() is None:
                node.process.kill()
                node.process.wait(10)
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass
class Process:
    """A `sightline` command (serve or worker) with its own environment."""

    args: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen([SIGHTLINE, *self.args], env=self.env, stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None
