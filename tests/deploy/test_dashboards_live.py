"""Every Grafana panel shows data for the running service while the simulator feeds it.

A real Prometheus (Debian's) scrapes the service's /metrics every second with the project's
recording and alerting rules loaded and a scrape credential, as a production Prometheus would;
then every query of every panel, and every dashboard variable, must return samples.

``fed_service`` is the suite's running peakwatch service, fed by the simulator (tests/support).
Prometheus sends its ``PEAKWATCH_METRICS_TOKEN`` when it has one, else its admin key (the
credential a service without a token accepts besides regulator keys).
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

import httpx
import pytest

from tests.deploy.conftest import RULE_FILES
from tests.deploy.panel_queries import empty_queries
from tests.support.prometheus import Prometheus, running_prometheus
from tests.support.service import Service

pytestmark = pytest.mark.integration


@pytest.fixture
def prometheus(
    fed_service: Service, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Prometheus]:
    """Prometheus scraping the service with a credential, as job ``peakwatch``."""
    workdir = tmp_path_factory.mktemp("prometheus-live")
    token = fed_service.env.get("PEAKWATCH_METRICS_TOKEN") or fed_service.admin_key
    with running_prometheus(
        [f"{fed_service.url}/metrics"],
        workdir=workdir,
        rule_files=RULE_FILES,
        bearer_token=token,
    ) as prometheus:
        prometheus.wait_for_scrape()
        yield prometheus


def test_every_panel_of_every_board_shows_data(
    service_url: str, prometheus: Prometheus, grafana: ModuleType
) -> None:
    # What a user or a probe does anyway; it also puts the API's own metrics on the boards.
    for path in ("/healthz", "/readyz", "/"):
        httpx.get(f"{service_url.rstrip('/')}{path}", timeout=10)
    hubs = prometheus.wait_for_data("count(peakwatch_hub_info)", timeout_s=60)
    assert float(hubs[0]["value"][1]) > 0, "the service exports no hub registry"
    empty = empty_queries(prometheus, grafana, timeout_s=120)
    assert not empty, "queries without data:\n" + "\n".join(empty)
