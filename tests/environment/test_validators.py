"""Each value is refused at config time for the reason its consuming system would refuse it at deploy time."""

from __future__ import annotations

import re
from typing import Any

import pytest

from components.config import ConfigError, load
from components.config.images import ImageReference, ImageReferenceError, parse_image_reference
from components.config.rules import cron_schedule, kafka_topic, prometheus_duration_ms, s3_bucket
from components.images import major_version
from components.infra.postgres import data_mount
from tests.harness import config_bag, refuse

DIGEST = "sha256:" + "0123456789abcdef" * 4
SMALL = {"cpu": "100m", "memory": "128Mi", "cpuLimit": "1", "memoryLimit": "256Mi"}
"""Overrides replace a whole key, so tests that compare with the memory limit state it."""


def message_for(stack: str, overrides: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        load(stack, config_bag(stack, overrides))
    return str(caught.value)


@pytest.mark.parametrize(
    ("stack", "overrides", "key", "expected"),
    [
        ("dev", {"postgres": {"image": "Postgres:18.4"}}, "postgres.image", "invalid repository component"),
        ("dev", {"redis": {"image": "redis: 8.2"}}, "redis.image", "contains whitespace"),
        ("dev", {"redis": {"image": "redis:"}}, "redis.image", "invalid tag ''"),
        ("dev", {"redis": {"image": "redis@sha256:abc"}}, "redis.image", "invalid digest"),
        ("dev", {"postgres": {"image": f"postgres@{DIGEST}"}}, "postgres.image", "major version"),
        ("dev", {"postgres": {"sharedBuffers": "0MB"}}, "postgres.sharedBuffers", "PostgreSQL accepts shared_buffers"),
        ("dev", {"postgres": {"sharedBuffers": "120kB"}}, "postgres.sharedBuffers", "from 16 to"),
        ("dev", {"postgres": {"workMem": "0MB"}}, "postgres.workMem", "PostgreSQL accepts work_mem from 64"),
        ("dev", {"postgres": {"sharedBuffers": "600MB", "resources": SMALL}}, "postgres",
         "must stay below resources.memoryLimit"),
        ("dev", {"redis": {"maxmemory": "256mb", "resources": SMALL}}, "redis", "maxmemory 256mb must stay below"),
        ("dev", {"redis": {"maxmemory": "0mb"}}, "redis.maxmemory", "means 'no limit'"),
        ("dev", {"monitoring": {"prometheus": {"retention": "1h2d"}}}, "monitoring.prometheus.retention",
         "from largest to smallest"),
        ("dev", {"monitoring": {"prometheus": {"scrapeInterval": "0"}}}, "monitoring.prometheus.scrapeInterval",
         "greater than zero"),
        ("dev", {"monitoring": {"prometheus": {"scrapeInterval": "2m31s"}}}, "monitoring.prometheus",
         "fewer than two samples"),
        ("prod", {"backup": {"schedule": "0 24 * * *"}}, "backup.schedule", "hour field '24' is out of range"),
        ("prod", {"backup": {"schedule": "61 2 * * *"}}, "backup.schedule", "minute field '61' is out of range"),
        ("prod", {"backup": {"schedule": "0 2 * 13 *"}}, "backup.schedule", "month field '13'"),
        ("dev", {"kafka": {"topics": ["user..created", "a" * 250]}}, "kafka.topics.1", "1-249 characters"),
        ("dev", {"kafka": {"topics": [".."]}}, "kafka.topics.0", "'.' and '..'"),
        ("dev", {"kafka": {"topics": ["user.created", "user_created"]}}, "kafka", "collides with 'user.created'"),
        ("dev", {"kafka": {"retentionHours": 2**31}}, "kafka.retentionHours", "less than or equal to 2147483647"),
        ("dev", {"minio": {"buckets": ["my..bucket"]}}, "minio.buckets.0", "no '..'"),
        ("dev", {"minio": {"buckets": ["192.168.1.1"]}}, "minio.buckets.0", "not an IP address"),
        ("dev", {"minio": {"buckets": ["Assets"]}}, "minio.buckets.0", "MinIO/S3 bucket name"),
        ("prod", {"kubernetes": {"storageClass": "Local_Path"}}, "kubernetes.storageClass", "RFC 1123 subdomain"),
        ("prod", {"kubernetes": {"namespace": "a" * 64}}, "kubernetes.namespace", "RFC 1123 label"),
        ("prod", {"domain": ("a" * 60 + ".") * 4 + "example"}, "domain", "at most 253"),
        ("prod", {"pods": {"core": {"replicas": 2**31, "maxReplicas": 2**31}}}, "pods.core.replicas",
         "less than or equal to 2147483647"),
        ("prod", {"kubernetes": {"edge": {"rateLimitAverage": 100, "rateLimitBurst": 50}}}, "kubernetes.edge",
         "rateLimitBurst 50 is below rateLimitAverage 100"),
        ("prod", {"kubernetes": {"edge": {"traefikReplicas": 1}}}, "kubernetes.edge.traefikReplicas",
         "greater than or equal to 2"),
        ("prod", {"kafka": {"brokers": 3, "replicationFactor": 4}}, "kafka", "replicationFactor 4 exceeds"),
        ("prod", {"registry": "ghcr.io/Dreamscape"}, "registry", "expected an image registry"),
        ("prod", {"minio": {"buckets": []}}, "minio.buckets", "at least 1 item"),
        ("prod", {"minio": {"buckets": ["assets", "assets"]}}, "minio.buckets", "listed twice"),
        ("prod", {"postgres": {"appUser": "postgres"}}, "postgres.appUser", "is the superuser"),
        ("prod", {"postgres": {"appUser": "pg_app"}}, "postgres.appUser", "reserves role names starting with 'pg_'"),
        ("prod", {"postgres": {"appUser": "user"}}, "postgres.appUser", "reserved SQL key word"),
        ("prod", {"postgres": {"appUser": "public"}}, "postgres.appUser", "reserved role name"),
        ("prod", {"postgres": {"appUser": "App"}}, "postgres.appUser", "lowercase PostgreSQL identifier"),
        ("prod", {"postgres": {"database": "template1"}}, "postgres.database", "the cluster's own databases"),
        ("prod", {"postgres": {"database": "postgres"}}, "postgres.database", "the cluster's own databases"),
        ("prod", {"postgres": {"database": "verbose"}}, "postgres.database", "not take as a bare database name"),
        ("prod", {"postgres": {"database": "a" * 64}}, "postgres.database", "at most 63 bytes"),
        ("prod", {"monitoring": {"slo": {"availability": 0.9}}}, "monitoring.slo.availability",
         "the fastest burn-rate alert fires at 14.4x the error budget"),
        ("prod", {"monitoring": {"slo": {"availability": 1}}}, "monitoring.slo.availability", "must be below 1"),
        ("prod", {"monitoring": {"slo": {"latencySeconds": 0}}}, "monitoring.slo.latencySeconds", "greater than 0"),
    ],
)
def test_a_value_its_consumer_refuses_is_refused_naming_the_key(
    stack: str, overrides: dict[str, Any], key: str, expected: str
) -> None:
    message = message_for(stack, overrides)
    assert f"dreamscape:{key}:" in message, f"the key dreamscape:{key} is named:\n{message}"
    assert expected in message, f"the rule is explained ({expected!r}):\n{message}"


@pytest.mark.parametrize(
    ("stack", "overrides"),
    [
        ("dev", {"postgres": {"image": f"postgres:17.6-alpine@{DIGEST}"}}),
        ("dev", {"postgres": {"sharedBuffers": "128kB", "workMem": "64kB"}}),
        ("dev", {"redis": {"maxmemory": "255mb", "resources": SMALL}}),
        ("dev", {"monitoring": {"prometheus": {"retention": "1w2d12h"}}}),
        ("prod", {"backup": {"schedule": "*/15 0-23/2 1,15 jan-dec mon-fri"}}),
        ("prod", {"backup": {"schedule": "@daily"}}),
        ("dev", {"kafka": {"topics": ["a" * 249, "user.created"]}}),
        ("prod", {"kubernetes": {"storageClass": "fast.ssd-1", "namespace": "n" * 51}}),
        ("prod", {"pods": {"core": {"replicas": 3, "maxReplicas": 2**31 - 1}}}),
        ("prod", {"kubernetes": {"edge": {"rateLimitAverage": 100, "rateLimitBurst": 100}}}),
        ("prod", {"kubernetes": {"edge": {"traefikReplicas": 2}}}),
        ("prod", {"registry": "registry.example.com:5000/team"}),
        ("prod", {"minio": {"buckets": ["abc"]}}),
        ("prod", {"postgres": {"appUser": "authorization", "database": "a" * 63}}),
        ("prod", {"postgres": {"appUser": "postgres_app", "database": "pg_data"}}),
        ("prod", {"monitoring": {"slo": {"availability": 0.931, "latencySeconds": 0.001}}}),
        ("prod", {"monitoring": {"slo": {"availability": 0.99999}}}),
    ],
)
def test_boundary_values_the_consumer_accepts_are_accepted(stack: str, overrides: dict[str, Any]) -> None:
    load(stack, config_bag(stack, overrides))


def test_every_bad_key_is_named_in_one_error_and_nothing_is_registered() -> None:
    refusal = refuse("dev", {"redis": {"image": "Redis:8"}, "kafka": {"topics": [".."]},
                             "monitoring": {"prometheus": {"retention": "1h1d"}}})
    for key in ("dreamscape:redis.image", "dreamscape:kafka.topics.0", "dreamscape:monitoring.prometheus.retention"):
        assert key in refusal.message, f"{key} is named in the one message:\n{refusal.message}"
    assert "3 problem(s)" in refusal.message, refusal.message
    assert refusal.registered == [], "validation happens before any registration"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgres:18.4-alpine", ImageReference(registry=None, name="postgres", tag="18.4-alpine", digest=None)),
        (f"postgres:18.4@{DIGEST}", ImageReference(registry=None, name="postgres", tag="18.4", digest=DIGEST)),
        (f"postgres@{DIGEST}", ImageReference(registry=None, name="postgres", tag=None, digest=DIGEST)),
        ("localhost:5000/team/app", ImageReference(registry="localhost:5000", name="team/app", tag=None, digest=None)),
        ("ghcr.io/a/b__c-d.e:v1", ImageReference(registry="ghcr.io", name="a/b__c-d.e", tag="v1", digest=None)),
        ("[::1]:5000/app:1", ImageReference(registry="[::1]:5000", name="app", tag="1", digest=None)),
    ],
)
def test_the_image_parser_follows_the_distribution_reference_grammar(text: str, expected: ImageReference) -> None:
    parsed = parse_image_reference(text)
    assert parsed == expected, f"{text} parses as {expected}, got {parsed}"
    assert str(parsed) == text, "a parsed reference prints back unchanged"


@pytest.mark.parametrize(
    "text",
    ["", "Redis:8", "redis:8 ", "redis:", "redis:-1", "a//b", "a/-b:1", "a/b_:1", "a___b:1", "redis@sha256:abc",
     f"redis@sha256:{'A' * 64}", f"redis@sha256:{'a' * 63}", "redis:" + "t" * 129, "x" * 256],
)
def test_the_image_parser_refuses_what_docker_refuses(text: str) -> None:
    with pytest.raises(ImageReferenceError):
        parse_image_reference(text)


def test_a_digest_pin_keeps_the_postgres_major_version_and_data_mount() -> None:
    assert major_version(f"postgres:18.4-alpine@{DIGEST}") == 18, "the tag, not the digest, gives the version"
    assert data_mount(f"postgres:17.6@{DIGEST}") == "/var/lib/postgresql/data", "17 keeps the old mount"
    assert major_version(f"registry.local:5000/postgres:16@{DIGEST}") == 16, "a registry port is not a tag"


def test_rule_helpers_match_their_upstream_grammars() -> None:
    assert prometheus_duration_ms("1h30m") == 5_400_000, "units add up"
    assert prometheus_duration_ms("0") == 0, "the bare zero is a valid duration"
    for bad in ("30m1h", "1h1h", "1.5h", "1x", ""):
        with pytest.raises(ValueError):
            prometheus_duration_ms(bad)
    assert cron_schedule("0 2 * * sun") == "0 2 * * sun", "weekday names"
    for bad in ("0 2 * * 7", "0 2 31-1 * *", "0 2 * * * *", "*/0 * * * *", "? * * * *"):
        with pytest.raises(ValueError):
            cron_schedule(bad)
    for bad in ("__consumer_offsets", "a b", "."):
        with pytest.raises(ValueError):
            kafka_topic(bad)
    for bad in ("ab", "a-.b", "xn--abc", "bucket-s3alias", "-ab", "a" * 64):
        with pytest.raises(ValueError):
            s3_bucket(bad)


def test_the_scrape_interval_bound_keeps_two_samples_in_every_rule_window() -> None:
    from components.config.model import MAX_SCRAPE_INTERVAL_MS
    from components.monitoring.prometheus.rules import BackupJob, PodLimits, RulesArgs, render_alert_rules

    every_rule = RulesArgs(pod_limits=(PodLimits(pod="core", processes=("auth",), memory_bytes=2**32),),
                           backups=(BackupJob(cronjob="postgres-backup"),))
    windows = re.findall(r"\[(\d+[smhdwy]+)\]", render_alert_rules(every_rule))
    assert windows, "the alert rules use range vectors"
    shortest = min(prometheus_duration_ms(window) for window in windows)
    assert shortest >= 2 * MAX_SCRAPE_INTERVAL_MS, f"two scrapes fit the shortest window {shortest} ms"
