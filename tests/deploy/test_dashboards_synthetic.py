"""Every panel query runs on a real Prometheus, with the recording rules, and returns data.

The metrics come from a stand-in exporter holding every family of docs/metrics.md, so this
checks the queries and rules themselves; test_dashboards_live.py does the same against the
running service fed by the simulator.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import pytest
from prometheus_client import start_http_server

from app.local_kafka import free_port
from tests.deploy.conftest import RULE_FILES
from tests.deploy.panel_queries import empty_queries
from tests.deploy.synthetic_metrics import synthetic_registry
from tests.support.prometheus import Prometheus, running_prometheus

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def exporter() -> Iterator[str]:
    """The stand-in /metrics on a free loopback port."""
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=synthetic_registry())
    yield f"http://127.0.0.1:{port}/metrics"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def prometheus(exporter: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    """Prometheus with the project's rules, scraping the stand-in every second."""
    workdir = tmp_path_factory.mktemp("prometheus")
    with running_prometheus([exporter], workdir=workdir, rule_files=RULE_FILES) as prometheus:
        prometheus.wait_for_scrape()
        yield prometheus


def test_every_panel_and_variable_query_returns_data(
    prometheus: Prometheus, grafana: ModuleType
) -> None:
    empty = empty_queries(prometheus, grafana)
    assert not empty, "queries without data:\n" + "\n".join(empty)


def test_recorded_province_totals_count_each_hub_once(prometheus: Prometheus) -> None:
    (zhejiang,) = prometheus.wait_for_data(
        'province:peakwatch_hub_backlog_parcels:sum{province="浙江"}'
    )
    assert float(zhejiang["value"][1]) == 590_000
    (orange,) = prometheus.wait_for_data(
        'province:peakwatch_hubs_orange_or_worse:count{province="浙江"}'
    )
    assert float(orange["value"][1]) == 1


def test_overflow_alerts_start_pending_for_the_filling_hub_only(prometheus: Prometheus) -> None:
    alerts = prometheus.wait_for_data('ALERTS{alertname="PeakwatchHubOverflow"}')
    # ZTO-HZ01: 93 % full and 44 min from overflow is orange, so orange and the levels below.
    assert {(a["metric"]["hub_id"], a["metric"]["level"]) for a in alerts} == {
        ("ZTO-HZ01", "orange"),
        ("ZTO-HZ01", "yellow"),
        ("ZTO-HZ01", "blue"),
    }
    assert {a["metric"]["alertstate"] for a in alerts} == {"pending"}  # for: 5m
