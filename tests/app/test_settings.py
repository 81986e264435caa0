"""Settings: environment over file over defaults, and the docs list every one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.settings import Settings, get_settings
from core.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "configuration.md"
PEAKWATCH = Path(sys.executable).parent / "peakwatch"


def test_environment_wins_over_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "peakwatch.toml"
    config.write_text(
        'http_port = 9001\nconsumer_group = "from-file"\n[risk]\nallowed_lateness_s = 60\n'
    )
    monkeypatch.setenv("PEAKWATCH_HTTP_PORT", "9002")
    settings = get_settings(config)
    assert settings.http_port == 9002
    assert settings.consumer_group == "from-file"
    assert settings.risk == {"allowed_lateness_s": 60}


def test_a_wrong_setting_is_named(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("http_prot = 1\n")
    with pytest.raises(ConfigError, match=r"setting http_prot = 1 \(from .*bad.toml\): is not"):
        get_settings(config)
    with pytest.raises(ConfigError, match="does not exist"):
        get_settings(tmp_path / "missing.toml")


def test_every_setting_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"`PEAKWATCH_{name.upper()}`" not in text]
    assert missing == []


def _serve(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``peakwatch serve`` as an operator runs it, with only ``env`` among PEAKWATCH_* vars."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PEAKWATCH_")}
    return subprocess.run(
        [str(PEAKWATCH), "serve", *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_bad_environment_variable_ends_serve_with_one_line(tmp_path: Path) -> None:
    result = _serve(tmp_path, PEAKWATCH_HTTP_PORT="abc")
    assert result.returncode == 2
    assert result.stderr == (
        "peakwatch: setting http_port = 'abc' (from PEAKWATCH_HTTP_PORT): must be an integer\n"
    )


def test_a_bad_value_in_the_file_ends_serve_with_one_line(tmp_path: Path) -> None:
    config = tmp_path / "peakwatch.toml"
    config.write_text('[risk]\nallowed_lateness_s = "soon"\n', encoding="utf-8")
    result = _serve(tmp_path, "--config", str(config))
    assert result.returncode == 2
    assert result.stderr == (
        f"peakwatch: setting risk.allowed_lateness_s = 'soon' (from {config}): must be an integer\n"
    )


@pytest.mark.parametrize(
    ("variable", "value", "line"),
    [
        ("PEAKWATCH_EVENTS_PARTITIONS", "0", "events_partitions = '0' (from {var}): must be >= 1"),
        ("PEAKWATCH_RISK", "{not json", "risk = '{not json' (from {var}): must be a JSON object"),
        (
            "PEAKWATCH_RISK",
            '{"allowed_lateness_s": -5}',
            "risk.allowed_lateness_s = -5 (from {var}): must be >= 0",
        ),
    ],
)
def test_every_bad_variable_is_named_with_its_rule(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, line: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as raised:
        get_settings()
    assert str(raised.value) == f"setting {line.replace('{var}', variable)}"


@pytest.mark.parametrize(
    ("toml", "line"),
    [
        ('http_port = "eighty"\n', "http_port = 'eighty' (from {file}): must be an integer"),
        ("http_port = 70000\n", "http_port = 70000 (from {file}): must be <= 65535"),
        ("http_prot = 8000\n", "http_prot = 8000 (from {file}): is not a known setting"),
        (
            "[alerting]\nreceiverz = 1\n",
            "alerting.receiverz = 1 (from {file}): is not a known setting",
        ),
    ],
)
def test_every_bad_value_in_the_file_is_named_with_its_rule(
    tmp_path: Path, toml: str, line: str
) -> None:
    config = tmp_path / "peakwatch.toml"
    config.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        get_settings(config)
    assert str(raised.value) == f"setting {line.replace('{file}', str(config))}"
