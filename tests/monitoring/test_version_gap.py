"""The local tools are older than the deployed images (docs/monitoring.md, "Version gap"): keep the rendered
configs inside the syntax both read, and keep the documented versions in step with the deployed ones."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.harness import Evaluation
from tests.monitoring.test_components import prometheus_yml

ROOT = Path(__file__).resolve().parents[2]
V3_ONLY_KEYS = ("fallback_scrape_protocol", "metric_name_validation_scheme", "metric_name_escaping_scheme",
                "convert_classic_histograms_to_nhcb", "always_scrape_classic_histograms", "scrape_native_histograms")


def _keys(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_prometheus_yml_uses_no_key_the_local_2_42_tools_cannot_check(stack: Evaluation) -> None:
    used = _keys(prometheus_yml(stack)) & set(V3_ONLY_KEYS)
    assert not used, f"v3-only keys escape the local promtool and server checks: {sorted(used)}"


def test_the_documented_deployed_versions_are_the_configured_images() -> None:
    monitoring = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]["monitoring"]["value"]
    doc = (ROOT / "docs" / "monitoring.md").read_text()
    for tool in ("prometheus", "alertmanager", "loki", "alloy"):
        image = monitoring[tool]["image"]
        assert f"`{image}`" in doc, f"docs/monitoring.md's version gap table names the deployed {image}"
