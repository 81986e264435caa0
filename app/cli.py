"""The ``peakwatch`` command: ``serve``, ``kafka start|stop``, ``simulate``, ``report daily``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from core.errors import PeakwatchError


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.main import create_app
    from app.settings import get_settings

    settings = get_settings(args.config)
    app = create_app(settings)
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_level="info",
        access_log=False,
        timeout_graceful_shutdown=10,
    )
    return 0


def _kafka(args: argparse.Namespace) -> int:
    from app import local_kafka

    if args.action == "start":
        print(f"kafka: starting {local_kafka.KAFKA_VERSION} in {args.dir} …", file=sys.stderr)
        broker = local_kafka.start(args.dir, port=args.port, partitions=args.partitions)
        print(broker.bootstrap)
        return 0
    stopped = local_kafka.stop(args.dir)
    print("kafka: stopped" if stopped else "kafka: not running", file=sys.stderr)
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from simulator.cli import run_simulate

    return run_simulate(args)


def _report(args: argparse.Namespace) -> int:
    from app.reports.cli import run_report

    return run_report(args)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    from app.reports.cli import add_report_arguments
    from simulator.cli import add_simulate_arguments

    parser = argparse.ArgumentParser(
        prog="peakwatch",
        description="Double-11 express-network risk monitor (两不: 全网不瘫痪、重要节点不爆仓).",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve", help="run one service process (API + consumers + alerting)"
    )
    serve.add_argument("--config", type=Path, help="TOML settings file (PEAKWATCH_* env wins)")
    serve.set_defaults(run=_serve)

    kafka = commands.add_parser("kafka", help="the local Apache Kafka broker (KRaft, no Docker)")
    kafka.add_argument("action", choices=["start", "stop"])
    kafka.add_argument("--dir", type=Path, default=Path(".peakwatch/kafka"), help="state directory")
    kafka.add_argument("--port", type=int, help="listener port (default: a free one, kept)")
    kafka.add_argument(
        "--partitions", type=int, default=12, help="default partitions of new topics"
    )
    kafka.set_defaults(run=_kafka)

    simulate = commands.add_parser("simulate", help="the Double-11 traffic generator")
    add_simulate_arguments(simulate)
    simulate.set_defaults(run=_simulate)

    report = commands.add_parser("report", help="reports read from the store (一日一报)")
    add_report_arguments(report)
    report.set_defaults(run=_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``peakwatch``."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for chatty in ("httpx", "aiokafka.consumer.subscription_state", "alembic.runtime.plugins"):
        logging.getLogger(chatty).setLevel(logging.WARNING)  # one line per request is noise
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except PeakwatchError as error:
        print(f"peakwatch: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
