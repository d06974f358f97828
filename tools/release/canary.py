"""Canary analysis: may a canary release be promoted? Asked of Prometheus, decided by a fixed policy.

A canary runs the new image beside the stable release and gets a share of the traffic. Over the same
window, its 5xx rate and its p95 latency must stay within the stable's (plus a tolerance), and it must
have served enough requests for the comparison to mean anything; otherwise it is rolled back. The queries
read the request-duration histogram of the application contract, `http_request_duration_seconds` (labels
route, method, status): its `_count` gives the request and 5xx rates, its `_bucket` the p95. Which series
are the canary's and which the stable's is a label selector each: `selectors(pod)` gives the ones the
Kubernetes target's canary labels produce (`track="canary"`).

`python -m tools.release.canary --prometheus URL --stable 'pod="core",track=""' --canary 'pod="core",track="canary"'`
prints the verdict and exits 0 to promote, 3 to roll back, 1 when Prometheus could not answer (which is
never a promotion).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum

from components.config import CanaryConfig, rules
from components.monitoring import labels
from components.targets.labels import CANARY_TRACK, TRACK_LABEL

METRIC = "http_request_duration_seconds"
"""The application contract's request-duration histogram (route, method, status)."""
PROMOTE, ROLLBACK, NO_ANSWER = 0, 3, 1


class Verdict(Enum):
    PROMOTE = "promote"
    ROLLBACK = "rollback"


@dataclass(frozen=True, kw_only=True)
class CanaryPolicy:
    window: str = "10m"
    """How far back both releases are compared (a PromQL range)."""
    max_error_rate_increase: float = 0.01
    """The canary's 5xx share may exceed the stable's by at most this much (0.01 = one point)."""
    max_latency_ratio: float = 1.2
    """The canary's p95 may be at most this multiple of the stable's."""
    min_requests: int = 50
    """Fewer canary requests in the window prove nothing: no promotion."""

    def __post_init__(self) -> None:
        # The window is written into every query as a range: Prometheus' duration rule decides (the rule
        # the stack config's `canary.window` is validated by, too).
        try:
            rules.positive_prometheus_duration(self.window)
        except ValueError:
            raise ValueError(f"window {self.window!r} is not a PromQL duration like 10m") from None

    @property
    def window_seconds(self) -> float:
        return rules.prometheus_duration_ms(self.window) / 1000

    @classmethod
    def of(cls, config: CanaryConfig) -> CanaryPolicy:
        """The policy the stack config declares (`canary.window`, thresholds)."""
        return cls(window=config.window, max_error_rate_increase=config.max_error_rate_increase,
                   max_latency_ratio=config.max_latency_ratio, min_requests=config.min_requests)


def selectors(pod: str) -> tuple[str, str]:
    """The label matchers of a Big Pod's stable and canary series: the same `pod` label, told apart by the
    track label the canary's pods carry and Prometheus copies (stable series have none, so match '')."""
    same_pod = f'{labels.POD}="{pod}"'
    return f'{same_pod},{TRACK_LABEL}=""', f'{same_pod},{TRACK_LABEL}="{CANARY_TRACK}"'


@dataclass(frozen=True, kw_only=True)
class Measurement:
    requests: float
    error_rate: float
    p95_seconds: float | None
    """None when no request was observed (the quantile of nothing)."""


@dataclass(frozen=True, kw_only=True)
class Decision:
    verdict: Verdict
    reasons: tuple[str, ...]


def requests_query(selector: str, window: str) -> str:
    return f"sum(increase({METRIC}_count{{{selector}}}[{window}]))"


def error_rate_query(selector: str, window: str) -> str:
    errors = f'sum(rate({METRIC}_count{{{selector},status=~"5.."}}[{window}]))'
    return f"({errors} or vector(0)) / sum(rate({METRIC}_count{{{selector}}}[{window}]))"


def p95_query(selector: str, window: str) -> str:
    return f"histogram_quantile(0.95, sum by (le) (rate({METRIC}_bucket{{{selector}}}[{window}])))"


Query = Callable[[str], float | None]
"""An instant query that returns the single sample's value, or None for an empty or NaN result."""


def measure(query: Query, selector: str, window: str) -> Measurement:
    requests = query(requests_query(selector, window)) or 0.0
    return Measurement(requests=requests, error_rate=query(error_rate_query(selector, window)) or 0.0,
                       p95_seconds=query(p95_query(selector, window)))


def decide(stable: Measurement, canary: Measurement, policy: CanaryPolicy) -> Decision:
    """Promote only when every check passes; each failed check is one reason."""
    reasons = []
    if canary.requests < policy.min_requests:
        reasons.append(f"the canary served {canary.requests:.0f} requests in {policy.window}, "
                       f"fewer than {policy.min_requests}: nothing to judge")
    if canary.error_rate > stable.error_rate + policy.max_error_rate_increase:
        reasons.append(f"5xx rate {canary.error_rate:.2%} against the stable's {stable.error_rate:.2%} "
                       f"(allowed: +{policy.max_error_rate_increase:.2%})")
    if canary.p95_seconds is not None and stable.p95_seconds is not None:
        if canary.p95_seconds > stable.p95_seconds * policy.max_latency_ratio:
            reasons.append(f"p95 {canary.p95_seconds * 1000:.0f} ms against the stable's "
                           f"{stable.p95_seconds * 1000:.0f} ms (allowed: x{policy.max_latency_ratio})")
    elif canary.p95_seconds is None and canary.requests >= policy.min_requests:
        reasons.append(f"no p95 for the canary: {METRIC}_bucket has no series for it")
    return Decision(verdict=Verdict.ROLLBACK if reasons else Verdict.PROMOTE, reasons=tuple(reasons))


class PrometheusError(RuntimeError):
    """Prometheus did not answer, or answered with an error: never read as a healthy canary."""


def prometheus_query(base_url: str, timeout: float = 10) -> Query:
    """Instant queries against Prometheus' HTTP API (`GET /api/v1/query`)."""

    def query(promql: str) -> float | None:
        url = f"{base_url.rstrip('/')}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                body = json.loads(response.read())
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise PrometheusError(f"{url}: {error}") from error
        if body.get("status") != "success":
            raise PrometheusError(f"{promql}: {body.get('errorType')}: {body.get('error')}")
        result = body["data"]["result"]
        if not result:
            return None
        value = float(result[0]["value"][1])
        return None if math.isnan(value) else value

    return query


def main(argv: Sequence[str] | None = None, query: Query | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.release.canary", description=__doc__.split("\n")[0])
    parser.add_argument("--prometheus", required=True, help="Prometheus base URL")
    parser.add_argument("--stable", required=True, help="label matchers of the stable release's series")
    parser.add_argument("--canary", required=True, help="label matchers of the canary's series")
    defaults = CanaryPolicy()
    parser.add_argument("--window", default=defaults.window)
    parser.add_argument("--max-error-rate-increase", type=float, default=defaults.max_error_rate_increase)
    parser.add_argument("--max-latency-ratio", type=float, default=defaults.max_latency_ratio)
    parser.add_argument("--min-requests", type=int, default=defaults.min_requests)
    args = parser.parse_args(argv)
    try:
        policy = CanaryPolicy(window=args.window, max_error_rate_increase=args.max_error_rate_increase,
                              max_latency_ratio=args.max_latency_ratio, min_requests=args.min_requests)
    except ValueError as error:
        parser.error(str(error))
    ask = query or prometheus_query(args.prometheus)
    try:
        decision = decide(measure(ask, args.stable, policy.window), measure(ask, args.canary, policy.window), policy)
    except PrometheusError as error:
        print(f"error: no canary verdict, Prometheus did not answer: {error}", file=sys.stderr)
        return NO_ANSWER
    print(f"canary: {decision.verdict.value}")
    for reason in decision.reasons:
        print(f"  - {reason}")
    return PROMOTE if decision.verdict is Verdict.PROMOTE else ROLLBACK


if __name__ == "__main__":
    sys.exit(main())
