"""Prometheus rules: valid for promtool, tested, mirroring the service's rules, with runbooks."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.levels import WARNING_LEVELS
from core.signals import RULES
from core.vocabulary import LEVELS, UNITS, VALUES
from core.vocabulary import RULES as VOCABULARY_RULES
from tests.deploy.conftest import (
    DEPLOY,
    K8S,
    REPO_ROOT,
    RULE_FILES,
    import_deploy_script,
    load_yaml,
)
from tests.deploy.test_grafana import METRIC, documented_metrics, recorded_metrics

PROMETHEUS = DEPLOY / "prometheus"


def alerting_rules() -> list[dict[str, Any]]:
    return [
        rule
        for path in RULE_FILES
        for group in load_yaml(path)["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail("promtool is not installed: `make system-deps` installs Debian's prometheus")
    return subprocess.run([binary, *args], capture_output=True, text=True, check=False)


@pytest.mark.integration
def test_promtool_accepts_the_rule_files() -> None:
    done = promtool("check", "rules", *map(str, RULE_FILES))
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.integration
def test_the_example_prometheus_config_scrapes_with_a_bearer_token(tmp_path: Path) -> None:
    example = PROMETHEUS / "prometheus.example.yml"
    config = load_yaml(example)
    (job,) = config["scrape_configs"]
    assert job["job_name"] == "peakwatch"
    assert job["metrics_path"] == "/metrics"
    assert job["authorization"]["type"] == "Bearer"
    # promtool checks every referenced file: the token file and the rules, here in tmp_path.
    token = tmp_path / "peakwatch-metrics.token"
    token.write_text("example-token-0123456789", encoding="utf-8")
    job["authorization"]["credentials_file"] = str(token)
    config["rule_files"] = [str(PROMETHEUS / name) for name in config["rule_files"]]
    assert {Path(name).name for name in config["rule_files"]} == {p.name for p in RULE_FILES}
    checked = tmp_path / "prometheus.yml"
    checked.write_text(yaml.safe_dump(config), encoding="utf-8")
    done = promtool("check", "config", str(checked))
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.integration
def test_promtool_unit_tests_of_the_rules_pass() -> None:
    tests = sorted((PROMETHEUS / "tests").glob("*.test.yml"))
    assert {path.name for path in tests} >= {
        "peakwatch-alerts.test.yml",
        "peakwatch-recording.test.yml",
    }
    done = promtool("test", "rules", *map(str, tests))
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_service_rule_has_an_alert_at_each_of_its_levels() -> None:
    mirrored: dict[str, set[str]] = {}
    for rule in alerting_rules():
        labels = rule.get("labels", {})
        if "rule" in labels:
            assert labels["rule"] in RULES, f"{rule['alert']}: unknown rule id {labels['rule']}"
            assert labels["level"] in WARNING_LEVELS
            mirrored.setdefault(labels["rule"], set()).add(labels["level"])
    assert set(mirrored) == set(RULES)
    assert mirrored["hub_overflow"] == {"blue", "yellow", "orange", "red"}
    assert mirrored["hub_silent"] == {"yellow", "orange", "red"}
    assert mirrored["province_congestion"] == {"orange", "red"}


def test_every_alert_has_a_severity_summaries_and_a_runbook_that_exists() -> None:
    operations = (REPO_ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    anchors = {
        re.sub(r"[^a-z0-9-]", "", heading.strip().lower().replace(" ", "-"))
        for heading in re.findall(r"^#+ (.+)$", operations, re.M)
    }
    for rule in alerting_rules():
        assert rule["labels"]["severity"] in {"info", "warning", "critical"}
        annotations = rule["annotations"]
        assert {"summary", "summary_en", "description", "runbook_url"} <= set(annotations)
        page, _, anchor = annotations["runbook_url"].partition("#")
        assert page == "docs/operations.md"
        assert anchor == rule["alert"].lower(), rule["alert"]
        assert anchor in anchors, f"docs/operations.md has no section {rule['alert']}"


def test_rules_use_only_documented_or_recorded_metrics() -> None:
    known = documented_metrics() | recorded_metrics()
    for path in RULE_FILES:
        for group in load_yaml(path)["groups"]:
            for rule in group["rules"]:
                for name in METRIC.findall(rule["expr"]):
                    assert name in known, f"{path.name}: {name} is not in docs/metrics.md"


def test_the_kubernetes_prometheusrule_carries_the_same_groups() -> None:
    converter = import_deploy_script("prometheus", "to_prometheusrule")
    manifest = load_yaml(K8S / "base" / "peakwatch-prometheusrule.yaml")
    assert manifest["spec"]["groups"] == converter.rule_groups(), (
        "stale: run .venv/bin/python deploy/prometheus/to_prometheusrule.py"
    )
    assert converter.main(["--check"]) == 0


NOT_EXPORTED = frozenset(
    ("reasons", "hubs_orange", "hubs_red", "hubs_silent", "hubs_reporting", "hubs_silent_ratio")
)
"""Value keys no gauge holds: only the service's own messages can show them."""


def mirrored_alerts() -> list[dict[str, Any]]:
    return [rule for rule in alerting_rules() if "rule" in rule.get("labels", {})]


def test_the_alerting_rules_file_is_generated_from_the_vocabulary() -> None:
    generator = import_deploy_script("prometheus", "alert_rules")
    committed = (PROMETHEUS / "peakwatch-alerts.rules.yml").read_text(encoding="utf-8")
    assert committed == generator.render(), (
        "stale: run .venv/bin/python deploy/prometheus/alert_rules.py"
    )
    assert generator.main(["--check"]) == 0


def test_alerts_are_titled_like_the_services_messages() -> None:
    for rule in mirrored_alerts():
        term, level = VOCABULARY_RULES[rule["labels"]["rule"]], LEVELS[rule["labels"]["level"]]
        annotations = rule["annotations"]
        assert annotations["summary"].startswith(f"【{level.name('zh')}】{term.name.zh}")
        assert annotations["summary_en"].startswith(f"[{level.name('en')}] {term.name.en}")


def test_alert_descriptions_show_the_rules_values_with_their_labels_and_units() -> None:
    for rule in mirrored_alerts():
        term = VOCABULARY_RULES[rule["labels"]["rule"]]
        annotations = rule["annotations"]
        for key in term.shown:
            if key in NOT_EXPORTED:
                continue
            assert f"{VALUES[key].label.en} {{{{" in annotations["description"], (rule, key)
            assert f"{VALUES[key].label.zh} {{{{" in annotations["description_zh"], (rule, key)
    (overflow, *_) = mirrored_alerts()
    assert f"{UNITS['parcels'].zh}{{{{ else }}}}" in overflow["annotations"]["description_zh"]


def test_annotation_queries_use_only_documented_or_recorded_metrics() -> None:
    known = documented_metrics() | recorded_metrics()
    for rule in alerting_rules():
        for text in rule["annotations"].values():
            for name in METRIC.findall(text):
                assert name in known, f"{rule['alert']}: {name} is not in docs/metrics.md"
