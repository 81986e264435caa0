"""One settings class for a service process, built by ``get_settings()`` (never at import).

Sources, highest first: ``PEAKWATCH_*`` environment variables, then the TOML file given to
``peakwatch serve --config FILE``, then the defaults below. Nested sections (``risk``, ``alerting``,
``rate_limits``) come from the file, or from JSON in ``PEAKWATCH_RISK`` etc. Every setting is listed
in docs/configuration.md.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.errors import ConfigError


class Settings(BaseSettings):
    """Settings of one ``peakwatch serve`` process."""

    model_config = SettingsConfigDict(env_prefix="PEAKWATCH_", extra="forbid")

    # Kafka
    kafka_bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers")
    events_topic: str = "hub-events"
    dlq_topic: str = "hub-events-dlq"
    status_topic: str = "hub-status"
    checkpoint_topic: str = "hub-state-checkpoints"
    events_partitions: int = Field(12, ge=1, description="partitions of hub-events when created")
    replication_factor: int = Field(1, ge=1)
    consumer_group: str = "peakwatch"
    max_batch_records: int = Field(20_000, ge=1, description="records per getmany batch at most")
    checkpoint_interval_s: float = Field(10.0, gt=0, description="state checkpoint period")

    # HTTP
    http_host: str = "127.0.0.1"
    http_port: int = Field(8000, ge=0, le=65535)
    public_url: str = Field("", description="base URL in alert links; default http://host:port")
    admin_key: SecretStr | None = Field(None, description="an admin API key accepted from start")
    metrics_token: SecretStr | None = Field(
        None,
        min_length=16,
        description="bearer token Prometheus sends to GET /metrics; unset: admin/regulator keys",
    )
    max_body_bytes: int = Field(16 * 1024 * 1024, ge=1024)
    max_batch_events: int = Field(10_000, ge=1)
    produce_timeout_s: float = Field(10.0, gt=0, description="Kafka must take a batch within this")
    rate_limits: dict[str, float] = Field(
        default_factory=dict,
        description="events/s per carrier code (token bucket, burst = 2 s); '*' = default",
    )
    default_rate_per_s: float = Field(200_000.0, gt=0)

    # State and alerting
    hubs_file: Path | None = Field(None, description="hub registry, JSON lines")
    db_url: str = "sqlite+aiosqlite:///.peakwatch/peakwatch.db"
    status_publish_interval_s: float = Field(
        2.0, gt=0, description="hub-status rows published at most this often (wall time)"
    )
    idle_timeout_s: float = Field(
        60.0,
        gt=0,
        description="a partition quiet this long (wall time, nothing left to read) stops holding"
        " event time back; when all are, event time goes on with the wall clock",
    )
    ready_max_lag_records: int = Field(50_000, ge=0, description="/readyz: caught up within this")
    risk: dict[str, Any] = Field(default_factory=dict, description="core.config.RiskConfig fields")
    alerting: dict[str, Any] = Field(
        default_factory=dict, description="alert routing and receivers"
    )

    @property
    def base_url(self) -> str:
        """Where users reach this process (for links in alerts)."""
        return self.public_url.rstrip("/") or f"http://{self.http_host}:{self.http_port}"


def get_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Settings from the environment over ``config_file`` (TOML) over defaults; then overrides."""
    file_values: dict[str, Any] = {}
    if config_file is not None:
        try:
            file_values = tomllib.loads(config_file.read_text(encoding="utf-8"))
        except FileNotFoundError as error:
            raise ConfigError(f"config file {config_file} does not exist") from error
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"config file {config_file}: {error}") from error
    env_only = Settings()
    explicit_env = env_only.model_dump(exclude_unset=True)
    merged = {**file_values, **explicit_env, **overrides}
    return Settings.model_validate(merged)
