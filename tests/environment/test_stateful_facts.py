"""The stateful guard also refuses renames that orphan data, shorter retention, a switch of Docker host
or Kubernetes context, a Postgres collation change and a MinIO downgrade; each has its one-change
override; and on dev a refused change builds and registers nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.stateful import refused_changes
from tests.harness import Evaluation, evaluate, refuse, stack_file_config


def keys(evaluation: Evaluation) -> dict[str, str]:
    value: dict[str, str] = evaluation.outputs["statefulIdentity"].value["keys"]
    return value


def previous(evaluation: Evaluation) -> dict[str, Any]:
    return {"statefulIdentity": {"version": 2, "keys": keys(evaluation)}}


def dev_block(key: str, **changed: Any) -> dict[str, Any]:
    block: dict[str, Any] = json.loads(stack_file_config("dev")[f"dreamscape:{key}"])
    return {key: {**block, **changed}}


MINIO_OLDER = "minio/minio:RELEASE.2025-09-07T16-13-09Z"


@pytest.mark.parametrize(("stack", "overrides", "key", "after"), [
    ("prod", {"postgres": {"database": "dreamscape_v2"}}, "postgres.database", "dreamscape_v2"),
    ("prod", {"postgres": {"appUser": "dreamscape_owner"}}, "postgres.appUser", "dreamscape_owner"),
    ("prod", {"postgres": {"clusterImageVariant": "standard-bookworm"}}, "postgres.imageFamily",
     "debian bookworm (glibc)"),
    ("dev", dev_block("postgres", image="postgres:18.4-bookworm"), "postgres.imageFamily", "debian bookworm (glibc)"),
    ("prod", {"minio": {"buckets": ["dreamscape-vr-assets-v2"]}}, "minio.buckets", None),
    ("prod", {"backup": {"bucket": "dreamscape-dumps"}}, "minio.buckets", None),
    ("prod", {"minio": {"image": MINIO_OLDER}}, "minio.release", "RELEASE.2025-09-07T16-13-09Z"),
    ("prod", {"monitoring": {"prometheus": {"retention": "7d"}}}, "prometheus.retention", "7d"),
    ("prod", {"monitoring": {"loki": {"retentionHours": 168}}}, "loki.retention", "168h"),
    ("prod", {"kubernetes": {"context": "other-cluster"}}, "platform.location", None),
    ("dev", {"docker": {"host": "tcp://10.0.0.5:2376"}}, "platform.location", None),
    ("dev", dev_block("postgres", database="other_db"), "postgres.database", "other_db"),
])
def test_each_change_that_orphans_or_loses_data_is_refused_with_its_one_change_override(
        stack: str, overrides: dict[str, Any], key: str, after: str | None, dev: Evaluation,
        prod: Evaluation) -> None:
    before = previous(dev if stack == "dev" else prod)
    result = refuse(stack, overrides, previous_outputs=before)
    assert f"  - {key}:" in result.message and "allowStatefulChange" in result.message, result.message
    builds = [r.name for r in result.registered if r.type.startswith(("docker-build:", "docker:", "kubernetes:"))]
    assert not builds, f"a refused change registers nothing on the target (builds included): {builds}"
    new_value = after if after is not None else keys(evaluate(stack, overrides))[key]
    allowed = evaluate(stack, {**overrides, "allowStatefulChange": {key: new_value}}, previous_outputs=before)
    assert keys(allowed)[key] == new_value, "the documented one-change override lets exactly that change through"


def test_the_collation_recorded_is_that_of_the_image_the_platform_runs(dev: Evaluation, prod: Evaluation) -> None:
    assert keys(dev)["postgres.imageFamily"] == "alpine (musl)", "dev runs postgres.image (postgres:18.4-alpine)"
    assert keys(prod)["postgres.imageFamily"] == "debian trixie (glibc)", \
        "prod runs CloudNativePG's operand image (clusterImageVariant standard-trixie), whatever postgres.image is"


@pytest.mark.parametrize(("stack", "overrides"), [
    ("prod", {"postgres": {"image": "postgres:18.4-bookworm"}}),
    ("prod", {"postgres": {"clusterImageVariant": "minimal-trixie"}}),
    ("dev", dev_block("postgres", clusterImageVariant="standard-bookworm")),
])
def test_an_image_switch_that_keeps_the_served_collation_passes(
        stack: str, overrides: dict[str, Any], dev: Evaluation, prod: Evaluation) -> None:
    evaluation = evaluate(stack, overrides, previous_outputs=previous(dev if stack == "dev" else prod))
    assert evaluation.resources, f"{stack}: {overrides} does not change the C library of what runs there"


@pytest.mark.parametrize("overrides", [
    {"monitoring": {"prometheus": {"retention": "90d"}}},
    {"monitoring": {"loki": {"retentionHours": 1440}}},
    {"minio": {"buckets": ["dreamscape-vr-assets", "dreamscape-uploads"]}},
    {"minio": {"image": "minio/minio:RELEASE.2025-10-15T17-29-55Z"}},
])
def test_growth_keeps_every_stored_byte_and_passes(overrides: dict[str, Any], prod: Evaluation) -> None:
    assert evaluate("prod", overrides, previous_outputs=previous(prod)).resources, f"{overrides} loses nothing"


def test_the_comparison_of_ordered_facts_goes_one_way_only() -> None:
    assert refused_changes({"p.retention": "30d"}, {"p.retention": "720h"}, {}) == [], "30d equals 720h"
    assert refused_changes({"p.retention": "30d"}, {"p.retention": "29d"}, {}), "a day shorter is refused"
    assert refused_changes({"m.buckets": "a,b"}, {"m.buckets": "a,b,c"}, {}) == [], "a new bucket is fine"
    assert refused_changes({"m.buckets": "a,b"}, {"m.buckets": "a,c"}, {}), "a dropped bucket is refused"
    assert refused_changes({"m.release": "RELEASE.2025-10-15T17-29-55Z"},
                           {"m.release": "RELEASE.2025-10-16T00-00-00Z"}, {}) == [], "an upgrade is fine"
