"""``peakwatch report daily --date YYYY-MM-DD [--province P] [--format json|html|csv]``: the
daily report read from the store at ``db_url`` (the rows the service has written: the current
hour as of its last write), printed on standard output."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from pathlib import Path

from app.reports.daily import gather
from app.reports.page import render_csv, render_html
from app.settings import get_settings
from core.config import RiskConfig
from storage.db import open_database


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date as YYYY-MM-DD") from None


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    """``report daily`` and its options."""
    kinds = parser.add_subparsers(dest="report", required=True)
    daily = kinds.add_parser("daily", help="the daily report (一日一报) of a Beijing-time day")
    daily.add_argument("--date", type=_day, required=True, help="the day, YYYY-MM-DD (+08:00)")
    daily.add_argument("--province", help="one province (default: the nation)")
    daily.add_argument("--format", choices=["json", "html", "csv"], default="json")
    daily.add_argument("--config", type=Path, help="TOML settings file (PEAKWATCH_* env wins)")


def run_report(args: argparse.Namespace) -> int:
    """Print the report asked for."""
    settings = get_settings(args.config)
    silent_after_s = RiskConfig.from_mapping(settings.risk).silent_yellow_s

    async def read() -> str:
        db = await open_database(settings.db_url)
        try:
            report = await gather(
                db,
                day=args.date,
                province=args.province,
                carrier=None,
                silent_after_s=silent_after_s,
            )
        finally:
            await db.close()
        if args.format == "html":
            return render_html(report)
        if args.format == "csv":
            return render_csv(report)
        return report.model_dump_json(indent=2)

    sys.stdout.write(asyncio.run(read()) + "\n")
    return 0
