"""Canary promotion decided against a stub of Prometheus' HTTP API (GET /api/v1/query)."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tools.release import canary

STABLE, CANARY = 'service="core"', 'service="core-canary"'


@dataclass
class Series:
    requests: float | None = 1000.0
    error_rate: float | None = 0.002
    p95: float | None = 0.120


@dataclass
class StubPrometheus:
    """Answers each query by its kind (requests, 5xx rate, p95) and its selector; records every query."""

    series: dict[str, Series] = field(default_factory=lambda: {STABLE: Series(), CANARY: Series()})
    failing: bool = False
    queries: list[str] = field(default_factory=list)
    url: str = ""

    def answer(self, promql: str) -> dict[str, object]:
        self.queries.append(promql)
        if self.failing:
            return {"status": "error", "errorType": "bad_data", "error": "parse error"}
        selector = next(s for s in self.series if s in promql)
        data = self.series[selector]
        if promql.startswith("histogram_quantile"):
            value = data.p95
        elif "increase(" in promql:
            value = data.requests
        else:
            value = data.error_rate
        result = [] if value is None else [{"metric": {}, "value": [1_796_400_000, str(value)]}]
        return {"status": "success", "data": {"resultType": "vector", "result": result}}


@pytest.fixture
def prometheus() -> Iterator[StubPrometheus]:
    stub = StubPrometheus()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urllib.parse.urlparse(self.path)
            if url.path != "/api/v1/query":
                self.send_error(404)
                return
            body = json.dumps(stub.answer(urllib.parse.parse_qs(url.query)["query"][0])).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            del args

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()


def verdict(prometheus: StubPrometheus, *extra: str) -> int:
    return canary.main(["--prometheus", prometheus.url, "--stable", STABLE, "--canary", CANARY, *extra])


def test_a_canary_as_good_as_the_stable_is_promoted(prometheus: StubPrometheus) -> None:
    assert verdict(prometheus) == canary.PROMOTE


def test_a_canary_with_more_5xx_than_allowed_is_rolled_back(prometheus: StubPrometheus,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    prometheus.series[CANARY].error_rate = 0.05
    assert verdict(prometheus) == canary.ROLLBACK
    assert "5xx rate 5.00%" in capsys.readouterr().out, "the reason is printed"


def test_a_slower_canary_is_rolled_back_and_a_slightly_slower_one_promoted(prometheus: StubPrometheus) -> None:
    prometheus.series[CANARY].p95 = 0.120 * 1.5
    assert verdict(prometheus) == canary.ROLLBACK
    prometheus.series[CANARY].p95 = 0.120 * 1.1
    assert verdict(prometheus) == canary.PROMOTE, "within the 1.2x tolerance"


def test_a_canary_without_traffic_is_never_promoted(prometheus: StubPrometheus) -> None:
    prometheus.series[CANARY] = Series(requests=None, error_rate=None, p95=None)
    assert verdict(prometheus) == canary.ROLLBACK


def test_no_answer_from_prometheus_is_never_a_promotion(prometheus: StubPrometheus) -> None:
    prometheus.failing = True
    assert verdict(prometheus) == canary.NO_ANSWER
    assert canary.main(["--prometheus", "http://127.0.0.1:9", "--stable", STABLE, "--canary", CANARY]) == (
        canary.NO_ANSWER
    ), "an unreachable Prometheus neither"


def test_the_queries_read_the_request_duration_histogram_over_the_window(prometheus: StubPrometheus) -> None:
    verdict(prometheus, "--window", "15m")
    assert prometheus.queries and all("http_request_duration_seconds" in q and "[15m]" in q
                                      for q in prometheus.queries), prometheus.queries
    assert any('status=~"5.."' in q for q in prometheus.queries), "5xx by the status label"
    assert any(q.startswith("histogram_quantile(0.95,") and "_bucket{" in q for q in prometheus.queries), "p95"


def test_a_window_that_is_no_promql_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="PromQL duration"):
        canary.CanaryPolicy(window="10 minutes")
