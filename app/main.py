"""Builds the FastAPI app of one service process. Routes live in ``app/api/routes``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from alerts.config import AlertingConfig
from alerts.service import AlertService
from app.api.routes import alerts, board, duty, events, health, hubs, incidents, keys, network
from app.api.routes import metrics as scrape
from app.api.routes import mitigations as courier_mitigations
from app.api.routes import reports as daily_reports
from app.api.routes import warnings as external_warnings
from app.keys import KeyStore
from app.metrics import SnapshotCollector, install_http_metrics
from app.runtime import Runtime, load_registry
from app.settings import Settings
from storage.db import open_database

log = logging.getLogger(__name__)

DESCRIPTION = """
peakwatch watches China's express-parcel network through the Double-11 peak and warns before a
key hub overflows (重要节点不爆仓) or the national network is paralysed (全网不瘫痪).

Couriers post hub events to `POST /v1/events`; regulators read `/v1/network`, `/v1/provinces`,
`/v1/hubs` and `/v1/alerts`; on-call staff acknowledge and silence alerts.
Authenticate with `Authorization: Bearer <api key>`.
"""


def create_app(settings: Settings) -> FastAPI:
    """The app for ``settings``; its lifespan starts and stops Kafka, the store and alerting."""
    metrics = CollectorRegistry()
    runtime = Runtime(settings, load_registry(settings), metrics)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = await open_database(settings.db_url)
        app.state.db = database  # the hub registry's rows and change history (routes/hubs.py)
        admin_key = settings.admin_key.get_secret_value() if settings.admin_key else None
        app.state.keys = KeyStore(database.engine, admin_key=admin_key)
        runtime.alerts = await AlertService.open(
            db=database,
            config=AlertingConfig.from_mapping(settings.alerting),
            public_url=settings.base_url,
            registry=metrics,
        )
        app.state.alerts = runtime.alerts
        try:
            await runtime.load_stored_registry(database)
            await runtime.start()
            log.info(
                "peakwatch serving on %s (kafka %s)", settings.base_url, settings.kafka_bootstrap
            )
            yield
        finally:
            await runtime.close()
            await runtime.alerts.close()
            await database.close()

    app = FastAPI(
        title="peakwatch",
        version="1.0.0",
        summary="Double-11 express-network risk monitor (两不: 全网不瘫痪、重要节点不爆仓)",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    metrics.register(SnapshotCollector(lambda: runtime.snapshot))
    install_http_metrics(app, metrics)
    routers = (health, events, hubs, network, alerts, keys, board, scrape, incidents, duty)
    for module in (*routers, external_warnings, courier_mitigations, daily_reports):
        app.include_router(module.router)
    return app
