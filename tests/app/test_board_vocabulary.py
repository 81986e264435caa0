"""The board's words are the vocabulary's: ``app/board/vocabulary.js`` is generated from
``core/vocabulary.py`` and must not be stale, and the rule names a user reads are the same on the
board, in Grafana, in chat messages and in the API's alert summaries."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from core.vocabulary import LEVELS, RULES, rule_name
from tests.alerts.factories import alert, item, renderer, single
from tests.alerts.notify.test_texts import ALERTS

ROOT = Path(__file__).resolve().parents[2]
BOARD_FILE = ROOT / "app" / "board" / "vocabulary.js"
DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "board_vocabulary", ROOT / "scripts" / "board_vocabulary.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("board_vocabulary", module)
    spec.loader.exec_module(module)
    return module


def _board() -> dict[str, Any]:
    text = BOARD_FILE.read_text(encoding="utf-8")
    body = text.split("export const VOCABULARY = ", 1)[1].rstrip().removesuffix(";")
    board: dict[str, Any] = json.loads(body)
    return board


def test_the_board_file_is_generated_from_the_vocabulary() -> None:
    assert BOARD_FILE.read_text(encoding="utf-8") == _generator().render(), (
        "app/board/vocabulary.js is stale: run .venv/bin/python scripts/board_vocabulary.py"
    )


def test_the_board_uses_the_generated_file_and_keeps_no_table_of_its_own() -> None:
    i18n = (ROOT / "app" / "board" / "i18n.js").read_text(encoding="utf-8")
    assert 'import { VOCABULARY } from "./vocabulary.js";' in i18n
    for rule in RULES:
        assert rule not in i18n
    for term in LEVELS.values():
        assert term.name("zh") not in i18n


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_rule_and_level_names_are_the_same_on_the_board_and_in_messages(lang: str) -> None:
    board = _board()[lang]
    for rule in RULES:
        message = renderer(lang).title(single(item(1, alert(rule=rule, level="red"))))
        assert board["rules"][rule] in message
        assert board["levels"]["red"] in message


def test_grafana_names_rules_and_levels_as_the_vocabulary_does() -> None:
    alerts_board = json.loads((DASHBOARDS / "peakwatch-alerts.json").read_text(encoding="utf-8"))
    shown = {
        override["matcher"]["options"]: prop["value"]
        for panel in alerts_board["panels"]
        for override in panel.get("fieldConfig", {}).get("overrides", [])
        for prop in override["properties"]
        if prop["id"] == "displayName"
    }
    assert {rule: shown.get(rule) for rule in RULES} == {r: rule_name(r, "zh") for r in RULES}
    boards = "".join(path.read_text(encoding="utf-8") for path in DASHBOARDS.glob("*.json"))
    for level in ("blue", "yellow", "orange", "red"):
        assert LEVELS[level].name("zh") in boards


def test_the_api_summaries_name_each_rule_as_the_vocabulary_does() -> None:
    for key, made in ALERTS.items():
        rule = key.split(":")[0]
        assert rule_name(rule, "zh") in made.as_json()["summary"]
        assert rule_name(rule, "en") in made.as_json()["summary_en"]
