"""Fingerprints: one per (rule, scope, subject), the same everywhere, level not part of it."""

from __future__ import annotations

import polars as pl

from alerts.evaluation.fingerprint import fingerprint, fingerprint_column
from tests.alerts.factories import frame, row


def test_same_rule_scope_subject_same_fingerprint_any_level() -> None:
    column = fingerprint_column(frame(row("HZ-01", "yellow"), row("HZ-01", "red")))
    assert column[0] == column[1] == fingerprint("hub_overflow", "hub", "HZ-01")


def test_different_subject_rule_or_scope_differ() -> None:
    prints = {
        fingerprint("hub_overflow", "hub", "HZ-01"),
        fingerprint("hub_overflow", "hub", "HZ-02"),
        fingerprint("hub_silent", "hub", "HZ-01"),
        fingerprint("province_congestion", "province", "HZ-01"),
    }
    assert len(prints) == 4


def test_fields_cannot_run_into_each_other() -> None:
    assert fingerprint("a", "hub", "bc") != fingerprint("ab", "hub", "c")


def test_stable_value() -> None:
    # Stored in the database and shared by replicas: it must never change between releases.
    assert fingerprint("hub_overflow", "hub", "ZTO-HZ-01") == "a958d779c04e9ea6"


def test_column_matches_scalar_function() -> None:
    rows = frame(
        row("A"),
        row("B", rule="hub_silent"),
        row("浙江", scope="province", rule="province_congestion"),
    )
    expected = [
        fingerprint(r, s, x)
        for r, s, x in rows.select(pl.col("rule", "scope").cast(pl.String), "subject").iter_rows()
    ]
    assert fingerprint_column(rows).to_list() == expected
