"""Every generated alert rule's subject (what its summary names) matches the series it selects.

A page that says "Big Pod core is close to its memory limit" must divide the memory of core's own
processes by core's own limit, not some other container's; a page about Redis must read Redis' series.
The rules checked are the ones each stack really deploys (the Prometheus rules file the target receives).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from components import spec
from components.config.quantities import memory_bytes
from components.monitoring import labels
from components.monitoring.prometheus.config import PrometheusPaths
from components.monitoring.prometheus.rules import LAST_VERIFIED_RESTORE
from tests.harness import Evaluation


@dataclass(frozen=True)
class Subject:
    """What a summary can name, and the metric families that may speak about it."""

    name: str
    summary: re.Pattern[str]
    families: tuple[str, ...]
    """Metric name prefixes (an exact name when it ends without `_`)."""


SUBJECTS = (
    Subject("a Big Pod", re.compile(r"^Big Pod "), ("process_",)),
    Subject("a scrape target", re.compile(r"^\{\{ \$labels\.service \}\} in pod |^Every scrape target"), ("up",)),
    Subject("a Node service", re.compile(r"^\{\{ \$labels\.service \}\} (returns|cannot reach|answers|burns) "),
            ("http_", "dreamscape_")),
    Subject("NGINX", re.compile(r"^NGINX "), ("nginx_",)),
    Subject("MinIO", re.compile(r"^MinIO "), ("minio_",)),
    Subject("PostgreSQL", re.compile(r"PostgreSQL"), ("pg_", "kube_persistentvolumeclaim_")),
    Subject("a Deployment", re.compile(r"^Deployment "), ("kube_deployment_",)),
    Subject("a StatefulSet", re.compile(r"^StatefulSet "), ("kube_statefulset_",)),
    Subject("a Job", re.compile(r"^Job "), ("kube_job_",)),
    Subject("a Kubernetes container", re.compile(r"^Container \{\{ \$labels\.container \}\} of "),
            ("kube_pod_container_",)),
    Subject("a Docker container", re.compile(r"^Docker container \{\{ \$labels\.service \}\} of pod "),
            ("container_",)),
    Subject("a backup CronJob", re.compile(r"[Bb]ackup \(?\{\{ \$labels\.cronjob \}\}"), ("kube_cronjob_",)),
    Subject("a restore-verify CronJob", re.compile(r"[Rr]estore.* \(\{\{ \$labels\.cronjob \}\}\)"),
            ("kube_cronjob_", LAST_VERIFIED_RESTORE)),
    Subject("Redis", re.compile(r"^Redis "), ("redis_",)),
    Subject("Kafka", re.compile(r"^Kafka |^Consumer group "), ("kafka_",)),
)

_NOT_METRICS = {"and", "or", "unless", "by", "on", "ignoring", "without", "bool", "group_left", "group_right",
                "offset"}


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects: identifiers that are not functions, keywords, label lists,
    label matchers or numbers."""
    text = re.sub(r'"[^"]*"', "", expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|on|ignoring|without|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = re.findall(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()", text)
    return {name for name in names if name not in _NOT_METRICS}


def _rules(stack: Evaluation) -> list[dict[str, Any]]:
    prometheus = next(s for s in stack.services if s.name == "prometheus")
    text = next(f.content for f in prometheus.container.config_files if f.path == PrometheusPaths().rules_file)
    assert isinstance(text, str), "the rules file is plain text rendered from typed data"
    data: dict[str, Any] = yaml.safe_load(text)
    # Recording rules name no subject (no summary); the alerts that read them are checked here.
    return [rule for group in data["groups"] for rule in group["rules"] if "alert" in rule]


def _subject(rule: dict[str, Any]) -> Subject:
    summary = rule["annotations"]["summary"]
    named = [s for s in SUBJECTS if s.summary.search(summary)]
    assert len(named) == 1, f"{rule['alert']}: the summary {summary!r} must name one subject, names {named}"
    return named[0]


def test_metric_names_are_read_from_an_expression_without_functions_or_labels() -> None:
    expr = ('sum by (environment, pod) (rate(http_requests_total{code=~"5.."}[5m])) / on (environment) '
            "max by (environment) (up) > 0.5 unless time() - kube_cronjob_created > 3")
    assert metric_names(expr) == {"http_requests_total", "up", "kube_cronjob_created"}, "only metric names"


def test_every_rule_selects_only_series_of_the_subject_its_summary_names(stack: Evaluation) -> None:
    for rule in _rules(stack):
        subject = _subject(rule)
        names = metric_names(rule["expr"])
        assert names, f"{rule['alert']}: selects no series"
        strays = sorted(n for n in names if not any(
            n.startswith(f) if f.endswith("_") else n == f for f in subject.families))
        assert not strays, f"{rule['alert']} speaks about {subject.name} but selects {strays} ({stack.stack})"


def _selected_pod(expr: str) -> str:
    found = re.search(r'pod="([^"]+)"', expr)
    assert found, f"a Big Pod rule selects one pod by name: {expr}"
    return found.group(1)


def _big_pods(stack: Evaluation) -> dict[str, spec.Service]:
    return {labels.pod_of(s): s for s in stack.services if labels.is_big_pod(s)}


@pytest.mark.parametrize("alert", ["PodMemoryNearLimit"])
def test_a_big_pod_rule_divides_its_own_processes_by_its_own_limit(stack: Evaluation, alert: str) -> None:
    pods = _big_pods(stack)
    rules = [r for r in _rules(stack) if r["alert"] == alert]
    assert sorted(_selected_pod(r["expr"]) for r in rules) == sorted(pods), (
        f"one {alert} per Big Pod, and none for a workload that only reports for one ({stack.stack})")
    for rule in rules:
        expr = rule["expr"]
        pod = pods[_selected_pod(expr)]
        selected = re.search(r'service=~"([^"]+)"', expr)
        assert selected, f"{alert}: selects the pod's processes by name"
        processes = {labels.process_of(pod, p) for p in pod.ports if p.metrics_path is not None}
        assert set(selected.group(1).split("|")) == processes, (
            f"{alert} for {labels.pod_of(pod)} sums exactly the processes of its container, not a reporter's")
        limit = memory_bytes(pod.container.resources.memory_limit)
        assert f"/ {limit} " in expr, f"{alert} for {labels.pod_of(pod)} divides by its container's limit {limit}"
