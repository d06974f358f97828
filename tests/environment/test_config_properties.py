"""Property: any generated config either stops with a ConfigError naming a key before anything is
registered, or renders objects that pass the Kubernetes schema, the API server's name rules and promtool.

Hypothesis edits one to three fields of the prod or a review stack with values drawn around each
consumer's boundaries (valid and invalid), so the validators and the rendered output are tested together.
"""

from __future__ import annotations

import functools
import re
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate.utils
import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from components.config import ConfigError
from components.config.loader import effective_values, merge
from tests.harness import Evaluation, Registered, config_bag, evaluate, refuse
from tests.kube import CUSTOM_GROUPS, kube_objects, manifest, validate
from tests.tooling import require_tool

_CACHED_SCHEMAS = functools.cache(kubernetes_validate.utils.schema_contents)
"""kubernetes-validate re-reads its schema files for every object; the examples share one read each."""
REVIEW = {"pr": 7, "commit": "1a2b3c4d", "expiresAt": "2030-01-01T00:00:00Z"}
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


def _values(good: list[str], bad: list[str], alphabet: str, max_size: int = 16) -> st.SearchStrategy[str]:
    """Values the consumer takes (half the draws), values it refuses, and arbitrary strings."""
    return st.one_of(st.sampled_from(good), st.sampled_from(good), st.sampled_from(bad),
                     st.text(alphabet=alphabet, max_size=max_size))


PG_SIZES = _values(["64kB", "124kB", "128kB", "4MB", "64MB", "1GB"], ["0MB", "63kB", "120kB", "9TB", "2Gi"], "0129kMGB")
REDIS_SIZES = _values(["1kb", "16mb", "64mb", "1gb"], ["0mb", "3gb", "100gb", "1.5gb"], "0129kmgb")
DURATIONS = _values(["15s", "1m", "2d", "30d", "1h30m", "1w2d"], ["0", "30m1h", "1.5h", "1d1w", ""], "0129smhdwy.")
CRONS = _values(["0 2 * * *", "*/15 * * * *", "@daily", "0 2 1-31 1,6 sun"], ["0 24 * * *", "61 2 * * *", "0 2 * * 7"],
                "0123456789*/-, ", 20)
NAMES = _values(["local-path", "fast.ssd", "dreamscape-prod", "x" * 51], ["Local_Path", "a" * 64, "-x", "x" * 52],
                "aZ09.-_", 70)
DOMAINS = _values(["dreamscape.example.com", "a.bc", "review.example.org"],
                  ["example", "EXAMPLE.com", ("a" * 60 + ".") * 4 + "com"], "az.-", 30)
IMAGES = _values(["postgres:18.4-alpine", "postgres:17.6", f"postgres:18.4@sha256:{'a' * 64}"],
                 [f"postgres@sha256:{'a' * 64}", "Postgres:18", "postgres:", "postgres:latest"], "postgres:@18.A ", 24)
TOPICS = st.lists(_values(["user.created", "a" * 249, "voyage-booked"], ["user_created", "a" * 250, ".", "..", "a b"],
                          "ab._-", 12), min_size=1, max_size=3)
BUCKETS = st.lists(_values(["dreamscape-assets", "abc", "a.b.c"], ["ab", "My-Bucket", "a..b", "192.168.0.1", "xn--a"],
                           "ab.-1", 12), min_size=1, max_size=2)
COUNTS = st.one_of(st.integers(1, 12), st.integers(-2, 12), st.sampled_from([2**31 - 1, 2**31, 2**32]))

EDITS: dict[str, tuple[tuple[str, ...], st.SearchStrategy[Any]]] = {
    "sharedBuffers": (("postgres", "sharedBuffers"), PG_SIZES),
    "workMem": (("postgres", "workMem"), PG_SIZES),
    "postgresImage": (("postgres", "image"), IMAGES),
    "maxmemory": (("redis", "maxmemory"), REDIS_SIZES),
    "topics": (("kafka", "topics"), TOPICS),
    "retentionHours": (("kafka", "retentionHours"), COUNTS),
    "replicationFactor": (("kafka", "replicationFactor"), COUNTS),
    "buckets": (("minio", "buckets"), BUCKETS),
    "promRetention": (("monitoring", "prometheus", "retention"), DURATIONS),
    "scrapeInterval": (("monitoring", "prometheus", "scrapeInterval"), DURATIONS),
    "schedule": (("backup", "schedule"), CRONS),
    "storageClass": (("kubernetes", "storageClass"), NAMES),
    "namespace": (("kubernetes", "namespace"), NAMES),
    "coreReplicas": (("pods", "core", "maxReplicas"), COUNTS),
    "burst": (("kubernetes", "edge", "rateLimitBurst"), COUNTS),
    "domain": (("domain",), DOMAINS),
}


@st.composite
def stack_configs(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A stack and the overrides for the top-level keys it edits (whole objects, as the bag holds them)."""
    stack = draw(st.sampled_from(["prod", "review-pr-7"]))
    base = effective_values(stack, config_bag(stack, {"review": REVIEW} if stack != "prod" else {}))
    chosen = draw(st.lists(st.sampled_from(sorted(EDITS)), min_size=1, max_size=2, unique=True))
    edited: dict[str, Any] = {}
    for name in chosen:
        path, values = EDITS[name]
        patch: Any = draw(values)
        for key in reversed(path[1:]):
            patch = {key: patch}
        top = path[0]
        current = edited.get(top, base.get(top))
        edited[top] = merge(current, patch) if isinstance(patch, dict) and isinstance(current, dict) else patch
    if stack != "prod":
        edited["review"] = REVIEW
    return stack, edited


def _values_of(value: Any, key: str) -> list[Any]:
    """Every value stored under `key` anywhere in a manifest."""
    if isinstance(value, dict):
        return [v for k, v in value.items() if k == key] + [x for v in value.values() for x in _values_of(v, key)]
    if isinstance(value, list):
        return [x for v in value for x in _values_of(v, key)]
    return []


def _names_obey_the_api_server(resource: Registered) -> None:
    document = manifest(resource)
    metadata = document["metadata"]
    name, namespace = metadata.get("name", resource.name), metadata.get("namespace")
    assert len(name) <= 253 and all(DNS_LABEL.match(part) for part in name.split(".")), f"object name {name!r}"
    if namespace is not None or document["kind"] == "Namespace":
        label = namespace if namespace is not None else name
        assert len(label) <= 63 and DNS_LABEL.match(label), f"namespace {label!r} is an RFC 1123 label"
    if document["kind"] == "Service":
        assert len(name) <= 63 and DNS_1035.match(name), f"Service name {name!r} is an RFC 1035 label"
    for found in _values_of(document, "storageClassName"):
        assert len(found) <= 253 and all(DNS_LABEL.match(p) for p in found.split(".")), f"storage class {found!r}"
    for rule in document.get("spec", {}).get("rules", []) if document["kind"] == "Ingress" else []:
        host = rule["host"]
        assert len(host) <= 253 and all(DNS_LABEL.match(p) and len(p) <= 63 for p in host.split(".")), host


def _promtool_accepts_the_rendered_durations(evaluation: Evaluation, promtool: str, tmp: Path) -> None:
    config_map = next(r for r in kube_objects(evaluation) if r.name == "prometheus-config")
    rendered = yaml.safe_load(config_map.inputs["data"]["etc-prometheus-prometheus.yml"])
    (tmp / "prometheus.yml").write_text(yaml.safe_dump({"global": rendered["global"]}))
    server = next(r for r in kube_objects(evaluation) if r.inputs["kind"] == "StatefulSet" and r.name == "prometheus")
    args = server.inputs["spec"]["template"]["spec"]["containers"][0]["args"]
    retention = next(a for a in args if a.startswith("--storage.tsdb.retention.time=")).partition("=")[2]
    # promtool parses `for:` with the same model.ParseDuration as the retention flag.
    (tmp / "rules.yml").write_text(yaml.safe_dump(
        {"groups": [{"name": "r", "rules": [{"alert": "A", "expr": "up == 0", "for": retention}]}]}))
    for check in (["check", "config", str(tmp / "prometheus.yml")], ["check", "rules", str(tmp / "rules.yml")]):
        done = subprocess.run([promtool, *check], capture_output=True, text=True, check=False, timeout=60)
        assert done.returncode == 0, f"promtool {check[1]} refused what passed:\n{done.stdout}{done.stderr}"


@pytest.mark.tools
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(case=stack_configs())
def test_a_generated_config_is_refused_by_key_or_renders_valid_objects(
    case: tuple[str, dict[str, Any]], tmp_path: Path
) -> None:
    promtool = require_tool("promtool")
    stack, overrides = case
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kubernetes_validate.utils, "schema_contents", _CACHED_SCHEMAS)
        _check(stack, overrides, promtool, tmp_path)


def _check(stack: str, overrides: dict[str, Any], promtool: str, tmp_path: Path) -> None:
    try:
        evaluation = evaluate(stack, overrides)
    except ConfigError:
        refusal = refuse(stack, overrides)
        assert re.search(r"dreamscape:[a-zA-Z]", refusal.message), f"the error names a key:\n{refusal.message}"
        assert refusal.registered == [], f"nothing is registered before the refusal:\n{refusal.message}"
        event("refused with a ConfigError")
        return
    event("rendered")
    objects = [r for r in kube_objects(evaluation) if not str(r.inputs["apiVersion"]).startswith(CUSTOM_GROUPS)]
    assert objects, f"{stack} renders Kubernetes objects"
    for resource in objects:
        validate(resource)
        _names_obey_the_api_server(resource)
    _promtool_accepts_the_rendered_durations(evaluation, promtool, tmp_path)
