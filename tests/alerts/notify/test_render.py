"""Message text: Chinese by default, English on request; level colour, subject, the numbers,
dashboard and acknowledge links; digests cut to a robot's size limit without losing count."""

from __future__ import annotations

import json
from dataclasses import replace

from alerts.notify.base import Notification
from alerts.notify.render import ack_token, ack_token_valid
from tests.alerts.factories import HUB_VALUES, LINKS, alert, item, renderer, single

RED = alert(
    "ZTO-HZ-01",
    "red",
    values_json=json.dumps(
        {**HUB_VALUES, "utilization": 1.02, "time_to_overflow_s": 0, "backlog": 510_000}
    ),
)


def test_chinese_single_message_has_everything_on_call_needs() -> None:
    text = renderer("zh").markdown(single(item(1, RED)), flavour="dingtalk", max_bytes=20_000)
    assert "【红色(I级)】触发 · 爆仓风险 · ZTO-HZ-01" in text
    assert "**对象**: 转运中心 ZTO-HZ-01" in text  # the scope in words, not its id ("hub")
    assert '<font color="#f5222d">' in text  # red, from core.levels
    assert "利用率 102.0%" in text
    assert "积压 510,000 件" in text
    assert "库容 500,000 件" in text
    assert "净流入 900 件/分钟" in text
    assert "预计爆仓 0 秒" in text
    assert "(UTC+8)" in text
    assert "2025-11-11 20:00:00" in text
    assert f"[查看看板]({LINKS.dashboard(RED)})" in text
    assert f"[确认告警]({LINKS.ack(RED)})" in text


def test_english_on_request() -> None:
    text = renderer("en").markdown(single(item(1, RED)), flavour="plain", max_bytes=20_000)
    assert "【Red (I)】FIRING · Hub overflow risk · ZTO-HZ-01" in text
    assert "**Subject**: Hub ZTO-HZ-01" in text
    assert "utilisation 102.0%" in text
    assert "backlog 510,000 parcels" in text
    assert "ZTO-HZ-01 at 91% of capacity" in text
    assert "[Acknowledge](" in text


def test_level_change_and_resolve_say_so() -> None:
    r = renderer("zh")
    up = item(1, alert(level="orange"), kind="level_changed", previous_level="yellow")
    assert "升级 黄色(III级)→橙色(II级)" in r.title(single(up))
    down = item(2, alert(level="yellow"), kind="level_changed", previous_level="red")
    assert "降级 红色(I级)→黄色(III级)" in r.title(single(down))
    assert "已恢复" in r.title(single(item(3, alert(state="resolved"), kind="resolved")))


def test_a_reminder_says_still_firing_and_for_how_long() -> None:
    reminder = replace(item(1, RED, kind="reminder"), firing_for_s=2 * 3600 + 5 * 60)
    assert renderer("zh").title(single(reminder)) == (
        "【红色(I级)】仍在告警(已持续 2 小时 5 分钟) · 爆仓风险 · ZTO-HZ-01"
    )
    assert renderer("en").title(single(reminder)) == (
        "【Red (I)】STILL FIRING (for 2 h 5 min) · Hub overflow risk · ZTO-HZ-01"
    )
    hour = replace(reminder, firing_for_s=3600)
    assert "仍在告警(已持续 1 小时)" in renderer("zh").title(single(hour))
    text = renderer("zh").markdown(single(hour), flavour="dingtalk", max_bytes=20_000)
    assert f"[确认告警]({LINKS.ack(RED)})" in text  # the way to stop the reminders


def test_wecom_uses_its_named_colours() -> None:
    text = renderer().markdown(single(item(1, RED)), flavour="wecom", max_bytes=4096)
    assert '<font color="warning">' in text


def test_digest_lists_worst_first_and_counts_by_level() -> None:
    items = (item(1, alert("A", "blue")), item(2, alert("B", "red")), item(3, alert("C", "orange")))
    message = Notification(receiver="ding", group_key="g", items=items, digest="group")
    r = renderer()
    assert r.title(message) == "告警汇总 3 条: 红色(I级) 1 · 橙色(II级) 1 · 蓝色(IV级) 1"
    body = r.markdown(message, flavour="plain", max_bytes=20_000)
    assert body.index(" B: ") < body.index(" C: ") < body.index(" A: ")


def test_digest_cut_to_the_limit_says_how_many_more() -> None:
    items = tuple(item(n, alert(f"HUB-{n:04d}")) for n in range(300))
    message = Notification(receiver="wecom", group_key="digest", items=items, digest="rate_limit")
    body = renderer().markdown(message, flavour="wecom", max_bytes=4096)
    assert len(body.encode()) <= 4096
    shown = body.count("- <font")
    assert 0 < shown < 300
    assert f"…另有 {300 - shown} 条，请查看看板" in body
    assert "机器人发送频率已达上限" in body


def test_ack_links_are_signed_per_alert() -> None:
    token = ack_token(b"k", "alert-1")
    assert ack_token_valid(b"k", "alert-1", token)
    assert not ack_token_valid(b"k", "alert-2", token)
    assert not ack_token_valid(b"other", "alert-1", token)
    assert LINKS.ack(RED).startswith(
        "https://peakwatch.example/v1/alerts/id-ZTO-HZ-01/ack-link?token="
    )
