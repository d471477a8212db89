"""One CacheBackend protocol, two implementations: Redis and an in-process memory store.

Backends are thin and dumb: the rules (validity, single flight, stale serving, breaker) live in
`cache.service`, so both behave the same. Redis errors propagate; the caller's breaker turns them
into misses.
"""

import asyncio
import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

from redis.exceptions import NoScriptError

from sightline.cache.client import close_redis, connect_redis, is_cluster, open_redis
from sightline.settings import CacheSettings


@dataclass(frozen=True, slots=True)
class Lookup:
    """One read of an entry together with everything needed to judge it."""

    blob: bytes | None
    seq: int  # the project's change counter now
    incarnation: str
    ingested_at: str | None  # when the last change was recorded (the data watermark)
    newest_change: int  # the newest version among the requested fields (0: never changed)
    epoch: int


def as_int(value: bytes | str | int | None) -> int:
    return int(value) if value is not None else 0


def as_str(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def glob_escape(text: str) -> str:
    """`text` as a literal in a Redis MATCH pattern."""
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)


class CacheBackend(Protocol):
    name: str

    async def lookup(self, entry: str, versions: str, epoch: str, fields: list[str]) -> Lookup: ...

    async def store(self, entry: str, blob: bytes, ttl_ms: int, lock: str,
                    token: str | None) -> None: ...

    async def acquire(self, lock: str, token: str, ttl_ms: int) -> bool: ...

    async def release(self, lock: str, token: str) -> None: ...

    async def bump(self, versions: str, fields: list[str], incarnation: str,
                   ingested_at: str) -> int: ...

    async def bump_epoch(self, epoch: str) -> int: ...

    async def drop(self, prefix: str) -> int: ...

    async def position(self, versions: str) -> int | None: ...

    async def advance_position(self, versions: str, position: int, incarnation: str) -> None: ...

    async def ping(self) -> None: ...

    async def connect(self) -> None: ...

    async def close(self) -> None: ...


# The entry, the project's change counter and the newest version among the requested fields, in
# one reply of five values (the versions hash shares the entry's hash slot).
LOOKUP = """
local blob = redis.call('GET', KEYS[1])
local meta = redis.call('HMGET', KEYS[2], 'seq', 'inc', 'at')
local newest = 0
if #ARGV > 0 then
  for _, v in ipairs(redis.call('HMGET', KEYS[2], unpack(ARGV))) do
    if v then newest = math.max(newest, tonumber(v)) end
  end
end
return {blob or false, meta[1] or false, meta[2] or false, meta[3] or false, newest}
"""

# On a Redis Cluster with replicas, a failover may lose the last changes the failed master had
# not yet replicated. The promoted replica has a new replication id: made part of the
# incarnation, it invalidates every entry stored before the failover.
LOOKUP_FAILOVER = LOOKUP.replace("meta[2] or false", (
    "(meta[2] and (meta[2] .. '@' .. "
    "string.match(redis.call('INFO', 'replication'), 'master_replid:(%w+)'))) or false"))

BUMP = """
redis.call('HSETNX', KEYS[1], 'inc', ARGV[1])
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
local current = redis.call('HGET', KEYS[1], 'at')
if (not current) or current < ARGV[2] then redis.call('HSET', KEYS[1], 'at', ARGV[2]) end
for i = 3, #ARGV do redis.call('HSET', KEYS[1], ARGV[i], seq) end
return seq
"""

STORE_AND_UNLOCK = """
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if ARGV[3] ~= '' and redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
return 1
"""

# The project's newest committed WAL position (read replicas wait for it), never moved back.
ADVANCE_POSITION = """
redis.call('HSETNX', KEYS[1], 'inc', ARGV[2])
local current = tonumber(redis.call('HGET', KEYS[1], 'lsn') or '-1')
if tonumber(ARGV[1]) > current then redis.call('HSET', KEYS[1], 'lsn', ARGV[1]) end
return 1
"""

RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
"""


class RedisBackend:
    """Redis (or Redis Cluster: every key of a script shares the project's hash tag)."""

    name = "redis"

    def __init__(self, url: str, settings: CacheSettings):
        self.client = open_redis(url, settings)
        self.cluster = is_cluster(url)
        self.lookup_text = LOOKUP_FAILOVER if self.cluster else LOOKUP
        self.lookup_sha = hashlib.sha1(self.lookup_text.encode()).hexdigest()
        self.bump_script = self.client.register_script(BUMP)
        self.store_script = self.client.register_script(STORE_AND_UNLOCK)
        self.release_script = self.client.register_script(RELEASE)
        self.position_script = self.client.register_script(ADVANCE_POSITION)

    async def lookup(self, entry: str, versions: str, epoch: str, fields: list[str]) -> Lookup:
        try:
            return await self.lookup_once(entry, versions, epoch, fields)
        except NoScriptError:
            await self.client.script_load(self.lookup_text)  # a restarted Redis forgot it
            return await self.lookup_once(entry, versions, epoch, fields)

    async def lookup_once(self, entry: str, versions: str, epoch: str,
                          fields: list[str]) -> Lookup:
        if self.cluster:  # the entry's slot and the epoch's: two nodes, asked at once
            (blob, seq, incarnation, ingested_at, newest), current_epoch = await asyncio.gather(
                self.client.evalsha(self.lookup_sha, 2, entry, versions, *fields),
                self.client.get(epoch))
            return Lookup(blob, as_int(seq), as_str(incarnation) or "", as_str(ingested_at),
                          as_int(newest), as_int(current_epoch))
        # EVALSHA directly: a pipelined Script object would first ask SCRIPT EXISTS every time
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.evalsha(self.lookup_sha, 2, entry, versions, *fields)
            pipe.get(epoch)
            (blob, seq, incarnation, ingested_at, newest), current_epoch = await pipe.execute()
        return Lookup(blob, as_int(seq), as_str(incarnation) or "", as_str(ingested_at),
                      as_int(newest), as_int(current_epoch))

    async def store(self, entry: str, blob: bytes, ttl_ms: int, lock: str,
                    token: str | None) -> None:
        await self.store_script(keys=[entry, lock], args=[blob, ttl_ms, token or ""])

    async def acquire(self, lock: str, token: str, ttl_ms: int) -> bool:
        return bool(await self.client.set(lock, token, nx=True, px=ttl_ms))

    async def release(self, lock: str, token: str) -> None:
        await self.release_script(keys=[lock], args=[token])

    async def bump(self, versions: str, fields: list[str], incarnation: str,
                   ingested_at: str) -> int:
        return int(await self.bump_script(keys=[versions], args=[incarnation, ingested_at, *fields]))

    async def bump_epoch(self, epoch: str) -> int:
        return int(await self.client.incr(epoch))

    async def drop(self, prefix: str) -> int:
        """Delete every key under `prefix` (one project's: all in one Cluster slot)."""
        dropped, batch = 0, []
        async for key in self.client.scan_iter(match=glob_escape(prefix) + "*", count=1000):
            batch.append(key)
            if len(batch) == 1000:
                dropped += await self.client.unlink(*batch)
                batch = []
        if batch:
            dropped += await self.client.unlink(*batch)
        return dropped

    async def position(self, versions: str) -> int | None:
        value = await self.client.hget(versions, "lsn")
        return int(value) if value is not None else None

    async def advance_position(self, versions: str, position: int, incarnation: str) -> None:
        await self.position_script(keys=[versions], args=[position, incarnation])

    async def ping(self) -> None:
        await self.client.ping()

    async def connect(self) -> None:
        await connect_redis(self.client)

    async def close(self) -> None:
        await close_redis(self.client)


class MemoryBackend:
    """The same contract inside one process (no Redis configured): entries are evicted oldest
    first above `max_entries`."""

    name = "memory"

    def __init__(self, max_entries: int = 10_000):
        self.max_entries = max_entries
        self.values: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self.hashes: dict[str, dict[str, str]] = {}
        self.counters: dict[str, int] = {}

    def get(self, key: str) -> bytes | None:
        item = self.values.get(key)
        if item is None:
            return None
        if item[0] <= time.monotonic():
            del self.values[key]
            return None
        return item[1]

    def set(self, key: str, value: bytes, ttl_ms: int) -> None:
        self.values[key] = (time.monotonic() + ttl_ms / 1000, value)
        self.values.move_to_end(key)
        while len(self.values) > self.max_entries:
            self.values.popitem(last=False)

    async def lookup(self, entry: str, versions: str, epoch: str, fields: list[str]) -> Lookup:
        table = self.hashes.get(versions, {})
        return Lookup(self.get(entry), as_int(table.get("seq")), table.get("inc", ""),
                      table.get("at"), max((as_int(table.get(f)) for f in fields), default=0),
                      self.counters.get(epoch, 0))

    async def store(self, entry: str, blob: bytes, ttl_ms: int, lock: str,
                    token: str | None) -> None:
        self.set(entry, blob, ttl_ms)
        if token and self.get(lock) == token.encode():
            del self.values[lock]

    async def acquire(self, lock: str, token: str, ttl_ms: int) -> bool:
        if self.get(lock) is not None:
            return False
        self.set(lock, token.encode(), ttl_ms)
        return True

    async def release(self, lock: str, token: str) -> None:
        if self.get(lock) == token.encode():
            del self.values[lock]

    async def bump(self, versions: str, fields: list[str], incarnation: str,
                   ingested_at: str) -> int:
        table = self.hashes.setdefault(versions, {"inc": incarnation})
        seq = as_int(table.get("seq")) + 1
        table["seq"] = str(seq)
        if table.get("at", "") < ingested_at:
            table["at"] = ingested_at
        table.update(dict.fromkeys(fields, str(seq)))
        return seq

    async def bump_epoch(self, epoch: str) -> int:
        self.counters[epoch] = self.counters.get(epoch, 0) + 1
        return self.counters[epoch]

    async def drop(self, prefix: str) -> int:
        keys = [k for k in self.values if k.startswith(prefix)]
        keys += [k for k in self.hashes if k.startswith(prefix)]
        for key in keys:
            self.values.pop(key, None)
            self.hashes.pop(key, None)
        return len(keys)

    async def position(self, versions: str) -> int | None:
        value = self.hashes.get(versions, {}).get("lsn")
        return int(value) if value is not None else None

    async def advance_position(self, versions: str, position: int, incarnation: str) -> None:
        table = self.hashes.setdefault(versions, {"inc": incarnation})
        if position > as_int(table.get("lsn", -1)):
            table["lsn"] = str(position)

    async def ping(self) -> None:
        return None

    async def connect(self) -> None:
        return None

    async def close(self) -> None:
        self.values.clear()
