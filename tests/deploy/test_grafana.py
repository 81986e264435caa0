"""The generated Grafana boards: committed, complete, and asking only for metrics that exist."""

from __future__ import annotations

import json
import re
from types import ModuleType
from typing import Any

import pytest

from core.levels import WARNING_LEVELS
from core.vocabulary import LEVELS, RULES, VALUES
from tests.deploy.conftest import DEPLOY, REPO_ROOT, RULE_FILES, load_yaml

BOARDS = {
    "peakwatch-national": "全国总览",
    "peakwatch-province": "省份",
    "peakwatch-hub": "节点",
    "peakwatch-alerts": "告警",
    "peakwatch-pipeline": "服务运行",
}
CJK = re.compile(r"[\u4e00-\u9fff]")
METRIC = re.compile(r"\b(peakwatch_[a-z0-9_]+|[a-z_]+:peakwatch_[a-z0-9_]+:[a-z0-9_]+)\b")


def documented_metrics() -> set[str]:
    """Series names docs/metrics.md promises, with histogram and counter suffixes."""
    text = (REPO_ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    names: set[str] = set()
    for name, kind in re.findall(
        r"^\| `(peakwatch_[a-z0-9_]+)(?:\{[^`]*\})?` \| (\w+)", text, re.M
    ):
        names.add(name)
        if kind == "histogram":
            names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    return names


def recorded_metrics() -> set[str]:
    """Series names the recording rules create."""
    return {
        rule["record"]
        for path in RULE_FILES
        for group in load_yaml(path)["groups"]
        for rule in group["rules"]
        if "record" in rule
    }


def boards(grafana: ModuleType) -> dict[str, dict[str, Any]]:
    return {board["uid"]: board for board in grafana.dashboards()}


def test_committed_files_match_the_generator(grafana: ModuleType) -> None:
    for relative, content in grafana.rendered_files().items():
        path = DEPLOY / "grafana" / relative
        assert path.exists(), f"run .venv/bin/python deploy/grafana/generate.py: {relative} missing"
        assert path.read_text(encoding="utf-8") == content, (
            f"deploy/grafana/{relative} is stale: run .venv/bin/python deploy/grafana/generate.py"
        )


def test_every_board_the_issue_asks_for_exists_with_a_chinese_title(grafana: ModuleType) -> None:
    found = boards(grafana)
    assert set(found) == set(BOARDS)
    for uid, title in BOARDS.items():
        assert title in found[uid]["title"]
        assert found[uid]["description"].isascii()


def test_panels_have_chinese_titles_and_english_descriptions(grafana: ModuleType) -> None:
    for uid, board in boards(grafana).items():
        for panel in board["panels"]:
            if panel["type"] == "row":
                continue
            assert CJK.search(panel["title"]), f"{uid}: {panel['title']!r} has no Chinese"
            description = panel.get("description") or panel["options"].get("content", "")
            assert re.search(r"[A-Za-z]{3,}", description), f"{uid}: {panel['title']} description"


def test_panels_do_not_overlap_and_fit_the_grid(grafana: ModuleType) -> None:
    for uid, board in boards(grafana).items():
        taken: set[tuple[int, int]] = set()
        for panel in board["panels"]:
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24, f"{uid}: {panel['title']} overflows the grid"
            cells = {
                (x, y)
                for x in range(grid["x"], grid["x"] + grid["w"])
                for y in range(grid["y"], grid["y"] + grid["h"])
            }
            assert not cells & taken, f"{uid}: {panel['title']} overlaps another panel"
            taken |= cells


def test_hub_is_chosen_province_then_carrier_then_hub(grafana: ModuleType) -> None:
    variables = {v["name"]: v for v in boards(grafana)["peakwatch-hub"]["templating"]["list"]}
    assert list(variables) == ["datasource", "province", "carrier", "hub"]
    assert "$province" in variables["carrier"]["definition"]
    hub_query = variables["hub"]["definition"]
    assert "$province" in hub_query
    assert "$carrier" in hub_query


def test_queries_use_only_documented_or_recorded_metrics(grafana: ModuleType) -> None:
    known = documented_metrics() | recorded_metrics()
    assert "peakwatch_hub_info" in known
    assert "peakwatch_consumer_records_total" in known
    for uid, title, expr in grafana.all_panel_queries():
        for name in METRIC.findall(expr):
            assert name in known, f"{uid} / {title}: {name} is in neither metrics.md nor a rule"


def test_every_query_has_its_variables_filled_for_tests(grafana: ModuleType) -> None:
    queries = grafana.all_panel_queries()
    assert len(queries) > 50
    for uid, title, expr in queries:
        assert "$" not in expr, f"{uid} / {title}: unfilled variable in {expr}"


def test_an_unknown_variable_is_refused(grafana: ModuleType) -> None:
    with pytest.raises(KeyError, match=r"\$city"):
        grafana.substitute('peakwatch_hub_info{city=~"$city"}')


def test_dashboard_files_are_valid_json_with_unique_panel_ids() -> None:
    for path in sorted((DEPLOY / "grafana" / "dashboards").glob("*.json")):
        board = json.loads(path.read_text(encoding="utf-8"))
        ids = [panel["id"] for panel in board["panels"]]
        assert len(ids) == len(set(ids)), path.name


def test_provisioning_points_grafana_at_the_dashboards(grafana: ModuleType) -> None:
    provider = load_yaml(DEPLOY / "grafana" / "provisioning" / "dashboards" / "peakwatch.yaml")
    (entry,) = provider["providers"]
    assert entry["type"] == "file"
    assert entry["options"]["path"] == grafana.DASHBOARDS_PATH


def _titles(board: dict[str, Any]) -> set[str]:
    return {panel["title"] for panel in board["panels"]}


def test_boards_name_values_and_rules_in_the_vocabularys_words(grafana: ModuleType) -> None:
    found = boards(grafana)
    hub, province, national = (
        found["peakwatch-hub"],
        found["peakwatch-province"],
        found["peakwatch-national"],
    )
    # What a message says about a hub is what its board's status row says.
    assert {
        VALUES[key].label.zh for key in ("utilization", "time_to_overflow_s", "silent_for_s")
    } <= _titles(hub)
    assert f"{RULES['province_congestion'].name.zh}等级" in _titles(province)
    assert VALUES["orange_capacity_ratio"].label.zh in _titles(province)
    network_values = {
        VALUES[key].label.zh for key in RULES["network_paralysis"].shown if key != "reasons"
    }
    shown = "".join(_titles(national))
    assert all(label in shown for label in network_values), network_values
    assert f"{RULES['network_paralysis'].name.zh}等级" in _titles(national)
    legends = {
        target["legendFormat"]
        for board in found.values()
        for panel in board["panels"]
        for target in panel.get("targets", [])
    }
    backlog = VALUES["backlog"].label
    assert f"{backlog.zh} {backlog.en}" in legends


def test_level_series_are_shown_by_their_level_names(grafana: ModuleType) -> None:
    alerts_board = boards(grafana)["peakwatch-alerts"]
    (by_level,) = [p for p in alerts_board["panels"] if p["title"] == "触发中的告警(按等级)"]
    shown = {
        override["matcher"]["options"]: prop["value"]
        for override in by_level["fieldConfig"]["overrides"]
        for prop in override["properties"]
        if prop["id"] == "displayName"
    }
    assert shown == {level: LEVELS[level].name("zh") for level in WARNING_LEVELS}
