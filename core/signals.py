"""The risk-signal frame: what the core hands to alerting at each evaluation tick.

One row per condition that currently holds at a warning level (blue or worse). A rule/subject
that is absent from a tick's frame is clear at that tick. Alerting owns pending and clear periods;
the core only says what holds now.
"""

from __future__ import annotations

import polars as pl

from core.levels import LEVEL_DTYPE
from core.vocabulary import RULES as VOCABULARY

RULES = tuple(VOCABULARY)  # the rule ids, from core.vocabulary
SCOPES = ("hub", "province", "carrier", "network")
RULE_DTYPE = pl.Enum(list(RULES))
SCOPE_DTYPE = pl.Enum(list(SCOPES))

SIGNAL_SCHEMA: dict[str, pl.DataType] = {
    "rule": RULE_DTYPE,
    "scope": SCOPE_DTYPE,
    "subject": pl.String(),  # hub id, province, carrier code or "CN"
    "level": LEVEL_DTYPE,  # blue..red only
    "hub_id": pl.String(),  # labels, null where they do not apply
    "carrier": pl.String(),
    "province": pl.String(),
    "summary": pl.String(),  # Chinese, with the numbers
    "summary_en": pl.String(),
    "values": pl.String(),  # JSON object: the numbers behind the signal
    "at": pl.Datetime("ms", "UTC"),  # event time of the evaluation (the watermark)
}


def empty_signals() -> pl.DataFrame:
    """A signal frame with no rows."""
    return pl.DataFrame(schema=SIGNAL_SCHEMA)
