"""Typed settings, read once from SIGHTLINE_* environment variables."""

from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Annotated, Literal

from pydantic import BaseModel, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class DatabaseSettings(BaseModel):
    pool_size: int = 8
    max_overflow: int = 4
    pool_timeout: float = 1.0  # no pooled connection within this: 503, never a long queue
    statement_timeout_ms: int = 30_000


class ReplicaSettings(BaseModel):
    max_lag: timedelta = timedelta(seconds=5)  # a replica further behind leaves rotation
    read_wait: timedelta = timedelta(milliseconds=250)  # for the project's newest write, then
    # the read goes to the primary
    check_every: timedelta = timedelta(milliseconds=500)
    check_timeout: timedelta = timedelta(seconds=1)
    pool_size: int = 8


class CacheSettings(BaseModel):
    ttl: timedelta = timedelta(minutes=5)
    realtime_ttl: timedelta = timedelta(seconds=5)
    stale_grace: timedelta = timedelta(seconds=30)
    key_ttl: timedelta = timedelta(seconds=10)
    socket_timeout: float = 0.05
    enabled: bool = True
    key_prefix: str = ""
    ttls: dict[str, timedelta] = {}  # per kind of result, e.g. {"stats.pages": 60}
    lock_ttl: timedelta = timedelta(seconds=30)  # a computation holds its key's lock this long
    lock_wait: timedelta = timedelta(seconds=10)  # then waiting requests compute themselves
    breaker_threshold: int = 3  # consecutive failures that open the circuit
    breaker_reset: timedelta = timedelta(seconds=1)  # open this long before one probe
    max_connections: int = 64
    pool_timeout: float = 1.0  # wait for a free Redis connection under load
    memory_max_entries: int = 10_000
    merged_days_bytes: int = 256_000_000  # bitmaps of merged built rollup days, per process


class RateLimitSettings(BaseModel):
    requests_per_second: float = 1000.0
    burst: int = 2000


class IngestSettings(BaseModel):
    max_events: int = 10_000
    max_body_bytes: int = 5_000_000
    session_timeout: timedelta = timedelta(minutes=30)
    future_tolerance: timedelta = timedelta(hours=1)


class GateSettings(BaseModel):
    limit: int  # concurrent holders per project and process
    queue: int  # more may wait (holding no connection); beyond: 429
    wait: timedelta = timedelta(seconds=20)  # then 503


class LimitSettings(BaseModel):
    body_bytes: int = 1_000_000  # every route but ingest (IngestSettings.max_body_bytes)
    # one ingest transaction per project and process: the others wait here, not on the
    # project's advisory lock with a pooled connection each
    ingest: GateSettings = GateSettings(limit=1, queue=32)
    # dashboard and share-link computations (misses and no-cache reloads); one at a time, so a
    # hammered project takes at most one core's worth of the database from the others
    dashboards: GateSettings = GateSettings(limit=1, queue=100)
    # stats computations the rollups cannot answer (filters, funnels, hours, other zones)
    ad_hoc: GateSettings = GateSettings(limit=1, queue=100)
    unknown_keys_per_second: float = 20.0  # database lookups of keys that turn out unknown,
    unknown_keys_burst: int = 50  # per process; beyond: 429


class WorkerSettings(BaseModel):
    lease: timedelta = timedelta(seconds=30)  # a job whose worker stops renewing is taken up again
    heartbeat: timedelta = timedelta(seconds=10)  # how often a running job renews its lease
    max_attempts: int = 3  # then the job ends as failed, its error kept for operators
    retry_delay: timedelta = timedelta(seconds=5)  # doubled after every failed attempt
    done_retention: timedelta = timedelta(days=1)  # finished jobs (and report results) kept
    failed_retention: timedelta = timedelta(days=7)
    purge_every: timedelta = timedelta(minutes=5)
    pending_reports: int = 10  # per project, queued or running; more is 429


class ColumnarSettings(BaseModel):
    """DuckDB over Parquet segments (per server process and worker)."""

    enabled: bool = True
    directory: Path | None = None  # default: <data_dir>/segments
    memory_limit: str = "1GB"  # DuckDB's limit per process
    threads: int = 2  # DuckDB threads per query
    concurrency: int = 2  # DuckDB queries at once per process; others wait
    # the days no segment holds are kept in DuckDB per project (segments.tail) when they are
    # at most this many; more are read per request
    kept_tail_days: int = 14
    kept_tail_projects: int = 16


class CollectSettings(BaseModel):
    """Browser beacons (POST /api/v1/collect) and the tracker script (SPEC section 8)."""

    max_body_bytes: int = 65_536
    # per client address and per site, in each server process
    address_rate: float = 50.0
    address_burst: int = 200
    site_rate: float = 10_000.0
    site_burst: int = 20_000
    # group commit: beacons of one project arriving within this window share one transaction
    batch_window: timedelta = timedelta(milliseconds=2)
    batch_max_events: int = 1000
    # a MaxMind-format country or city database; None: the database shipped in `iptocc`
    geoip_database: Path | None = None

class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SIGHTLINE_", env_nested_delimiter="__", extra="ignore"
    )

    environment: Literal["development", "production", "test"] = "development"
    database_url: str | None = None
    # streaming replicas for stats, dashboards and GraphQL: comma-separated URLs
    database_read_urls: Annotated[list[str], NoDecode] = []
    redis_url: str | None = None
    data_dir: Path = Path(".data")
    webhook_secret: SecretStr = SecretStr("")
    admin_token: SecretStr = SecretStr("")  # instance scope: creates, lists and deletes projects
    log_json: bool = False
    worker_in_process: bool | None = None
    bench_routes: bool = False  # /bench/floor*, for the servers `sightline bench` starts
    database: DatabaseSettings = DatabaseSettings()
    replicas: ReplicaSettings = ReplicaSettings()
    cache: CacheSettings = CacheSettings()
    ingest: IngestSettings = IngestSettings()
    rate_limit: RateLimitSettings = RateLimitSettings()
    worker: WorkerSettings = WorkerSettings()
    limits: LimitSettings = LimitSettings()
    columnar: ColumnarSettings = ColumnarSettings()
    collect: CollectSettings = CollectSettings()
    # peers whose X-Forwarded-For names the client (comma-separated addresses or networks)
    trusted_proxies: Annotated[list[IPv4Network | IPv6Network], NoDecode] = []
    # the dashboard page measures itself with the tracker, in a built-in "Sightline" project
    self_tracking: bool = True

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def proxy_networks(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part for part in value.replace(" ", ",").split(",") if part]
        if isinstance(value, list):
            return [ip_network(str(part), strict=False) for part in value]
        return value

    @field_validator("database_url")
    @classmethod
    def async_driver(cls, url: str | None) -> str | None:
        """postgresql://… and postgres://… mean the asyncpg driver here."""
        if url is None:
            return None
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+asyncpg://" + url.removeprefix(prefix)
        return url

    @field_validator("database_read_urls", mode="before")
    @classmethod
    def split_urls(cls, urls: str | list[str]) -> list[str]:
        listed = urls.split(",") if isinstance(urls, str) else urls
        return [cls.async_driver(url.strip()) for url in listed if url.strip()]  # type: ignore[misc]

    @property
    def segments_dir(self) -> Path:
        return self.columnar.directory or self.data_dir / "segments"

    @property
    def embedded(self) -> bool:
        return self.database_url is None

    @property
    def in_process_worker(self) -> bool:
        """Embedded mode runs background jobs inside the server; otherwise `sightline worker`."""
        return self.embedded if self.worker_in_process is None else self.worker_in_process


@lru_cache
def get_settings() -> Settings:
    return Settings()
