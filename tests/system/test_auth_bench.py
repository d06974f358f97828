"""scripts/auth_bench.py, run small: it starts the real NGINX with the rendered gateway config and the real
reference services, reports sane figures, and refuses to report any when auth_request is off."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from components.pods.render.files import REPO_ROOT
from tests.tooling import require_tool

pytestmark = pytest.mark.tools
SCRIPT = REPO_ROOT / "scripts" / "auth_bench.py"


@pytest.fixture(autouse=True)
def tools() -> None:
    require_tool("nginx", "/usr/sbin/nginx")
    require_tool("node")


@pytest.fixture
def bench() -> Iterator[ModuleType]:
    """The script as a module (registered so its dataclasses resolve), removed afterwards."""
    name = "dreamscape_auth_bench"
    spec = importlib.util.spec_from_file_location(name, SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[name]


def test_the_benchmark_runs_and_reports_non_negative_figures_for_both_modes() -> None:
    done = subprocess.run([sys.executable, str(SCRIPT), "--requests", "20", "--warmup", "5", "--json"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    assert result["route"] == "/api/v1/voyages" and result["requests"] == 20
    for mode in ("with_auth_request", "without_auth_request"):
        assert 0 < result[mode]["median_ms"] <= result[mode]["p95_ms"], result
    assert result["overhead_median_ms"] == pytest.approx(
        result["with_auth_request"]["median_ms"] - result["without_auth_request"]["median_ms"])


def test_the_benchmark_fails_when_the_protected_route_answers_without_a_token(
        bench: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    rendered = bench.render_nginx

    def without_auth_request(*args: Any, **kwargs: Any) -> str:
        return str(rendered(*args, **kwargs)).replace("auth_request", "# auth_request")

    monkeypatch.setattr(bench, "render_nginx", without_auth_request)
    with pytest.raises(bench.BenchError, match=r"token=none: 200, expected 401"):
        bench.run(requests=5, warmup=1)
    assert bench.main(["--requests", "5", "--warmup", "1"]) == 1


def test_the_benchmark_fails_when_the_unprotected_gateway_still_checks_tokens(
        bench: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    """Otherwise both modes would pay the subrequest and the overhead would read as zero."""
    monkeypatch.setattr(bench, "_unprotected", lambda pod, prefix: pod)
    with pytest.raises(bench.BenchError, match=r"token=none: 401, expected 200"):
        bench.run(requests=5, warmup=1)
