"""Settings: environment over file over defaults, and the docs list every one."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.settings import Settings, get_settings
from core.errors import ConfigError

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


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
    with pytest.raises(ValueError, match="http_prot"):
        get_settings(config)
    with pytest.raises(ConfigError, match="does not exist"):
        get_settings(tmp_path / "missing.toml")


def test_every_setting_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"`PEAKWATCH_{name.upper()}`" not in text]
    assert missing == []
