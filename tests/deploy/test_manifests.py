"""Kubernetes manifests: each overlay builds, validates against the Kubernetes schemas, and holds
what an operator relies on (probes, limits, hardening, topics, monitoring).

Core kinds are validated offline by kubernetes-validate (strict: unknown fields are errors).
It ships no schemas for the custom resources (ServiceMonitor, PrometheusRule, KafkaTopic), so
their shape is checked here against what the Prometheus Operator and Strimzi require.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest

from tests.deploy.conftest import K8S, OVERLAYS, kustomize_build, load_yaml

CUSTOM_KINDS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
    ("kafka.strimzi.io/v1beta2", "KafkaTopic"),
}
TOPICS = {"hub-events", "hub-events-dlq", "hub-status", "hub-state-checkpoints"}
KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
pytestmark = pytest.mark.integration  # kustomize is a real binary (scripts/install-tools.sh)

Resources = dict[str, list[dict[str, Any]]]


def of_kind(resources: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r for r in resources if r["kind"] == kind]


def one(resources: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    (found,) = [r for r in of_kind(resources, kind) if name in (None, r["metadata"]["name"])]
    return found


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_core_resources_validate_against_the_kubernetes_schemas(
    built_overlays: Resources, overlay: str, version: str
) -> None:
    validated = 0
    for resource in built_overlays[overlay]:
        if (resource["apiVersion"], resource["kind"]) in CUSTOM_KINDS:
            continue
        try:
            kubernetes_validate.validate(resource, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(part) for part in error.path)
            pytest.fail(
                f"{overlay}: {resource['kind']}/{resource['metadata']['name']}: {path}: "
                f"{error.message}"
            )
        validated += 1
    assert validated >= 8


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_resource_carries_the_recommended_labels(
    built_overlays: Resources, overlay: str
) -> None:
    for resource in built_overlays[overlay]:
        labels = resource["metadata"].get("labels", {})
        for key in ("name", "instance", "component", "part-of", "version", "managed-by"):
            assert f"app.kubernetes.io/{key}" in labels, f"{resource['kind']} lacks {key}"
    pod_labels = one(built_overlays[overlay], "Deployment")["spec"]["template"]["metadata"]
    assert pod_labels["labels"]["app.kubernetes.io/instance"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_service_runs_hardened_with_probes_and_limits(
    built_overlays: Resources, overlay: str
) -> None:
    pod = one(built_overlays[overlay], "Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    assert pod["enableServiceLinks"] is False  # PEAKWATCH_* service links would be settings
    (container,) = pod["containers"]
    assert container["args"] == ["serve"]
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    for bound in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][bound])
    assert container["image"].startswith("registry.example.com/peakwatch/peakwatch:")
    config = one(
        [
            c
            for c in of_kind(built_overlays[overlay], "ConfigMap")
            if c["metadata"]["name"] == "peakwatch"
        ],
        "ConfigMap",
    )
    assert config["data"]["PEAKWATCH_HTTP_HOST"] == "0.0.0.0"
    assert config["data"]["PEAKWATCH_HTTP_PORT"] == "8000"
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert str(Path(config["data"]["PEAKWATCH_HUBS_FILE"]).parent) in mounts


def test_prod_scales_with_a_shared_store_and_ships_no_secret(built_overlays: Resources) -> None:
    prod = built_overlays["prod"]
    assert not of_kind(prod, "Secret"), "prod must not carry a Secret: create them out of band"
    autoscaler = one(prod, "HorizontalPodAutoscaler")
    events = next(t for t in of_kind(prod, "KafkaTopic") if t["metadata"]["name"] == "hub-events")
    assert 2 <= autoscaler["spec"]["minReplicas"] <= autoscaler["spec"]["maxReplicas"]
    assert autoscaler["spec"]["maxReplicas"] <= events["spec"]["partitions"]
    assert one(prod, "PodDisruptionBudget")["spec"]["maxUnavailable"] == 1
    example = load_yaml(K8S / "overlays" / "prod" / "peakwatch-secret.example.yaml")
    assert example["stringData"]["PEAKWATCH_DB_URL"].startswith("postgresql+asyncpg://")
    assert "REPLACE_ME" in example["stringData"]["PEAKWATCH_ADMIN_KEY"]
    metrics = load_yaml(K8S / "overlays" / "prod" / "peakwatch-metrics-secret.example.yaml")
    assert metrics["metadata"]["name"] == "peakwatch-metrics"
    assert metrics["stringData"]["token"] == "REPLACE_ME"


def test_dev_runs_one_replica_on_sqlite_with_an_example_secret(built_overlays: Resources) -> None:
    dev = built_overlays["dev"]
    assert not of_kind(dev, "HorizontalPodAutoscaler")
    deployment = one(dev, "Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    secret = one(dev, "Secret", "peakwatch")["stringData"]
    assert secret["PEAKWATCH_DB_URL"].startswith("sqlite+aiosqlite:////var/lib/peakwatch/")
    assert "not-a-secret" in secret["PEAKWATCH_ADMIN_KEY"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_service_monitor_scrapes_the_service_port(built_overlays: Resources, overlay: str) -> None:
    resources = built_overlays[overlay]
    service, monitor = one(resources, "Service"), one(resources, "ServiceMonitor")
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    port_names = {port["name"] for port in service["spec"]["ports"]}
    for endpoint in monitor["spec"]["endpoints"]:
        assert endpoint["port"] in port_names
        assert endpoint["path"] == "/metrics"
        assert re.fullmatch(r"\d+s", endpoint["interval"])
    # The job label is the Service's name; the rules and boards select job="peakwatch".
    assert service["metadata"]["name"] == "peakwatch"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_prometheus_scrapes_with_the_token_the_pods_accept(
    built_overlays: Resources, overlay: str
) -> None:
    # /metrics answers only with a scrape credential: the ServiceMonitor sends, as a bearer
    # token, the very Secret key the container reads as PEAKWATCH_METRICS_TOKEN.
    resources = built_overlays[overlay]
    (container,) = one(resources, "Deployment")["spec"]["template"]["spec"]["containers"]
    env = {variable["name"]: variable for variable in container.get("env", [])}
    token_ref = env["PEAKWATCH_METRICS_TOKEN"]["valueFrom"]["secretKeyRef"]
    assert token_ref.get("optional") is not True, "a pod without the token must not start"
    assert token_ref["name"] != "peakwatch", "Prometheus must not need the admin key's Secret"
    for endpoint in one(resources, "ServiceMonitor")["spec"]["endpoints"]:
        authorization = endpoint["authorization"]
        assert authorization["type"] == "Bearer"
        assert authorization["credentials"] == {"name": token_ref["name"], "key": token_ref["key"]}
    if overlay == "dev":
        secret = one(resources, "Secret", token_ref["name"])
        assert "not-a-secret" in secret["stringData"][token_ref["key"]]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_prometheus_rule_is_well_formed(built_overlays: Resources, overlay: str) -> None:
    groups = one(built_overlays[overlay], "PrometheusRule")["spec"]["groups"]
    names = [group["name"] for group in groups]
    assert len(names) == len(set(names))
    for group in groups:
        for rule in group["rules"]:
            assert ("record" in rule) != ("alert" in rule)
            assert isinstance(rule["expr"], str)
            assert rule["expr"].strip()
            assert set(rule) <= {"record", "alert", "expr", "for", "labels", "annotations"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kafka_topics_are_the_services_topics(built_overlays: Resources, overlay: str) -> None:
    topics = of_kind(built_overlays[overlay], "KafkaTopic")
    assert {t["spec"]["topicName"] for t in topics} == TOPICS
    namespace = one(built_overlays[overlay], "Deployment")["metadata"]["namespace"]
    for topic in topics:
        assert topic["metadata"]["labels"]["strimzi.io/cluster"]
        assert topic["metadata"]["namespace"] == namespace
        spec = topic["spec"]
        assert isinstance(spec["partitions"], int)
        assert spec["partitions"] >= 1
        assert isinstance(spec["replicas"], int)
        assert spec["replicas"] >= 1
        assert spec["config"]["min.insync.replicas"] <= spec["replicas"]
        compacted = topic["metadata"]["name"] in {"hub-status", "hub-state-checkpoints"}
        assert (spec["config"]["cleanup.policy"] == "compact") == compacted


def test_grafana_dashboards_build_as_a_sidecar_config_map(kustomize_bin: str) -> None:
    (config_map,) = kustomize_build(kustomize_bin, K8S.parent / "grafana")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert len(config_map["data"]) == 5


def test_files_are_named_after_their_component_and_kind() -> None:
    for path in sorted(K8S.rglob("*.yaml")):
        if path.name == "kustomization.yaml" or path.name.endswith("-patch.yaml"):
            continue
        resource = load_yaml(path)
        stem = path.name.removesuffix(".example.yaml").removesuffix(".yaml")
        expected = f"{resource['metadata']['name']}-{resource['kind'].lower()}"
        assert stem == expected, f"{path.relative_to(K8S)} should be named {expected}.yaml"
