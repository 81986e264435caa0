"""One settings class for a service process, built by ``get_settings()`` (never at import).

Sources, highest first: ``PEAKWATCH_*`` environment variables, then the TOML file given to
``peakwatch serve --config FILE``, then the defaults below. Nested sections (``risk``, ``alerting``,
``rate_limits``) come from the file, or from JSON in ``PEAKWATCH_RISK`` etc. Every setting is listed
in docs/configuration.md.

A bad value fails in one line naming the setting, the value, where it came from and the rule
(``setting http_port = 'abc' (from PEAKWATCH_HTTP_PORT): must be an integer``), raised as
``ConfigError`` so that ``peakwatch`` prints it and exits with code 2.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr, ValidationError
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from alerts.config import AlertingConfig
from core.config import RiskConfig
from core.errors import ConfigError

ENV_PREFIX = "PEAKWATCH_"


class Settings(BaseSettings):
    """Settings of one ``peakwatch serve`` process."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

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


_RULES: dict[str, str] = {
    "int_parsing": "must be an integer",
    "int_type": "must be an integer",
    "int_from_float": "must be a whole number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "string_type": "must be a string",
    "dict_type": "must be a table (a TOML section, or a JSON object in the environment)",
    "extra_forbidden": "is not a known setting",
    "missing": "is required",
}
_BOUNDS = {
    "greater_than": ">",
    "greater_than_equal": ">=",
    "less_than": "<",
    "less_than_equal": "<=",
}


def _rule(error: ErrorDetails) -> str:
    context = error.get("ctx") or {}
    if error["type"] in _BOUNDS:
        bound = next(iter(context.values()), "?")
        return f"must be {_BOUNDS[error['type']]} {bound}"
    if error["type"] in _RULES:
        return _RULES[error["type"]]
    message = error["msg"].removeprefix("Input should be ").removeprefix("Value error, ")
    return message if message != error["msg"] else f"must be {message}"


def _origin(name: str, from_env: set[str], config_file: Path | None) -> str:
    if name in from_env:
        return f"{ENV_PREFIX}{name.upper()}"
    return str(config_file) if config_file is not None else "the defaults"


def _setting_error(
    error: ValidationError, from_env: set[str], config_file: Path | None, section: str = ""
) -> ConfigError:
    """The first mistake of ``error`` as one line: setting, value, origin and rule."""
    first = error.errors()[0]
    name = ".".join(str(part) for part in (section, *first["loc"]) if part != "")
    top = section or (str(first["loc"][0]) if first["loc"] else "")
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return ConfigError(
        f"setting {name} = {first['input']!r} (from {_origin(top, from_env, config_file)}): "
        f"{_rule(first)}{more}"
    )


def _environment() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        raise _setting_error(error, set(Settings.model_fields), None) from error
    except SettingsError as error:  # a nested section whose JSON does not parse
        found = re.search(r'field "(\w+)"', str(error))
        name = found.group(1) if found else "?"
        variable = f"{ENV_PREFIX}{name.upper()}"
        raise ConfigError(
            f"setting {name} = {os.environ.get(variable, '')!r} (from {variable}): "
            "must be a JSON object"
        ) from error


def _read_file(config_file: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(config_file.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise ConfigError(f"config file {config_file} does not exist") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"config file {config_file}: {error}") from error


def _check_section(
    model: type[BaseModel],
    settings: Settings,
    section: str,
    from_env: set[str],
    config_file: Path | None,
) -> None:
    try:
        model.model_validate(getattr(settings, section))
    except ValidationError as error:
        raise _setting_error(error, from_env, config_file, section) from error


def get_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Settings from the environment over ``config_file`` (TOML) over defaults; then overrides.

    Every section is checked here too (``risk``, ``alerting``), so a mistake anywhere ends the
    command before it starts anything; ``ConfigError`` carries the one-line reason.
    """
    file_values = _read_file(config_file) if config_file is not None else {}
    explicit_env = _environment().model_dump(exclude_unset=True)
    from_env = set(explicit_env)
    try:
        settings = Settings.model_validate({**file_values, **explicit_env, **overrides})
    except ValidationError as error:
        raise _setting_error(error, from_env, config_file) from error
    _check_section(RiskConfig, settings, "risk", from_env, config_file)
    _check_section(AlertingConfig, settings, "alerting", from_env, config_file)
    return settings
