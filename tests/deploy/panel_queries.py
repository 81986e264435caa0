"""Run every board's queries against a Prometheus and say which came back empty."""

from __future__ import annotations

import time
from types import ModuleType

from tests.support.prometheus import Prometheus


def empty_queries(
    prometheus: Prometheus, grafana: ModuleType, *, timeout_s: float = 60.0
) -> list[str]:
    """The panel and variable queries that still return no data after ``timeout_s``.

    Rates and recording rules need a few scrapes and evaluations first, so each query is retried
    until the shared deadline. A query Prometheus rejects raises ``PrometheusError`` at once.
    """
    queries = [(uid, f"panel {title}", expr) for uid, title, expr in grafana.all_panel_queries()]
    queries += [(uid, f"${name}", expr) for uid, name, expr in grafana.all_variable_queries()]
    deadline = time.monotonic() + timeout_s
    empty: list[str] = []
    for uid, what, expr in queries:
        while not prometheus.query(expr):
            if time.monotonic() > deadline:
                empty.append(f"{uid} / {what}: {expr}")
                break
            time.sleep(0.5)
    return empty
