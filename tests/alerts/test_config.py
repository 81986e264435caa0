"""Alerting configuration: loads from a mapping, JSON or a TOML section; mistakes are named."""

from __future__ import annotations

import pytest

from alerts.config import AlertingConfig, DingTalkReceiver, RulePeriods
from core.errors import ConfigError

TOML = """
[alerting]
language = "en"
[alerting.periods.hub_overflow]
pending_s = 30
clear_s = 600

[[alerting.receivers]]
type = "dingtalk"
name = "hub-oncall"
url = "https://oapi.dingtalk.com/robot/send?access_token=abc"
secret = "SECabc"

[[alerting.receivers]]
type = "email"
name = "duty-manager"
host = "smtp.example.cn"
from_addr = "peakwatch@example.cn"
to = ["duty@example.cn"]
language = "zh"

[[alerting.routes]]
match = { province = ["浙江", "江苏"] }
min_level = "orange"
receivers = ["hub-oncall"]
escalations = [{ after_s = 900, receivers = ["duty-manager"] }]
"""


def test_toml_section_loads() -> None:
    config = AlertingConfig.from_toml(TOML)
    assert config.periods_for("hub_overflow") == RulePeriods(pending_s=30, clear_s=600)
    ding = config.receiver("hub-oncall")
    assert isinstance(ding, DingTalkReceiver)
    assert ding.rate_limit_per_min == 20  # DingTalk's published limit is the default
    assert config.routes[0].match == {"province": ("浙江", "江苏")}
    assert config.routes[0].escalations[0].receivers == ("duty-manager",)
    email = config.receiver("duty-manager")
    assert email is not None
    assert config.language_of(ding) == "en"
    assert config.language_of(email) == "zh"


def test_json_loads_and_continue_is_accepted() -> None:
    config = AlertingConfig.from_json(
        '{"receivers": [{"type": "webhook", "name": "w", "url": "http://x"}],'
        ' "routes": [{"receivers": ["w"], "continue": true}]}'
    )
    assert config.routes[0].continue_matching is True


def test_defaults_without_config() -> None:
    config = AlertingConfig()
    assert config.language == "zh"
    assert config.periods_for("hub_silent").pending_s == 0  # the core already waited 10 min
    assert config.periods_for("hub_overflow") == RulePeriods()


def test_repeat_interval_receiver_then_route_then_default() -> None:
    config = AlertingConfig.from_mapping(
        {
            "receivers": [
                {"type": "dingtalk", "name": "ding", "url": "http://d"},
                {
                    "type": "email",
                    "name": "mail",
                    "host": "h",
                    "from_addr": "a@b",
                    "to": ["c@d"],
                    "repeat_interval_s": 14400,
                },
                {"type": "webhook", "name": "quiet", "url": "http://q", "repeat_interval_s": 0},
                {"type": "alertmanager", "name": "am", "url": "http://am"},
            ],
            "routes": [
                {
                    "min_level": "red",
                    "receivers": ["ding", "mail", "quiet", "am"],
                    "repeat_interval_s": 1800,
                },
                {"receivers": ["ding"]},
            ],
        }
    )
    red, other = config.routes
    assert config.repeat_interval_s == 3600  # the default: hourly
    assert config.repeat_interval_for("ding", red) == 1800  # the route's
    assert config.repeat_interval_for("ding", other) == 3600  # the default
    assert config.repeat_interval_for("mail", red) == 14400  # the receiver's own wins
    assert config.repeat_interval_for("quiet", red) is None  # 0: never
    assert config.repeat_interval_for("am", red) is None  # Alertmanager repeats by itself


@pytest.mark.parametrize(
    ("data", "names"),
    [
        ({"routes": [{"receivers": ["nobody"]}]}, "nobody"),
        ({"routes": [{"match": {"colour": ["red"]}}]}, "colour"),
        ({"receivers": [{"type": "pager", "name": "p"}]}, "pager"),
        (
            {
                "receivers": [
                    {"type": "webhook", "name": "w", "url": "http://a"},
                    {"type": "webhook", "name": "w", "url": "http://b"},
                ]
            },
            "unique",
        ),
        ({"periods": {"hub_overflow": {"pending_s": -1}}}, "pending_s"),
        ({"repeat_interval_s": 30}, "repeat_interval_s"),
        ({"routes": [{"repeat_interval_s": 5}]}, "repeat_interval_s"),
        (
            {
                "receivers": [{"type": "webhook", "name": "w", "url": "http://a", "timeout_s": 45}],
                "outbox": {"lease_s": 120},
            },
            "lease_s",
        ),
    ],
)
def test_mistakes_raise_config_error_naming_them(data: dict[str, object], names: str) -> None:
    with pytest.raises(ConfigError, match=names):
        AlertingConfig.from_mapping(data)


def test_bad_syntax_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        AlertingConfig.from_json("{")
    with pytest.raises(ConfigError):
        AlertingConfig.from_toml("[alerting")
