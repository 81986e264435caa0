"""Helpers that start real servers for the tests (Kafka, PostgreSQL, Prometheus, Alertmanager)."""
