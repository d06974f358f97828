"""Alert receivers are validated when the stack config loads, before anything is registered."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import evaluate, refuse

EMAIL = {"to": "ops@example.com", "from": "alerts@example.com", "smarthost": "smtp.example.com:587"}


@pytest.mark.parametrize(("alerting", "complaint"), [
    ({"email": {**EMAIL, "smarthost": "smtp.example.com"}}, "must be host:port"),
    ({"email": {**EMAIL, "smarthost": "smtp.example.com:99999"}}, "must be host:port"),
    ({"email": {**EMAIL, "to": "ops"}}, "is not an email address"),
    ({"email": {**EMAIL, "username": "alerts", "password": " "}}, "password must not be empty"),
    ({"slackWebhook": "http://hooks.slack.com/services/T0/B0/XSECRETX"}, "https:// URL"),
    ({"slackWebhook": "hooks.slack.com/services/T0/B0/XSECRETX"}, "https:// URL"),
    ({"pagerdutyRoutingKey": "  "}, "must not be empty"),
    ({"slackWebhook": "https://hooks.slack.com/services/T0/B0/XSECRETX", "slackChannel": ""}, "must not be empty"),
])
def test_a_receiver_alertmanager_would_crash_or_drop_alerts_on_is_refused_at_load(
    alerting: dict[str, Any], complaint: str
) -> None:
    refusal = refuse("dev", {"alerting": alerting})
    assert complaint in refusal.message, f"the refusal says what is wrong: {refusal.message}"
    assert "XSECRETX" not in refusal.message, "a refused secret is never echoed back"
    assert refusal.registered == [], "refused before any resource is registered"


def test_valid_receivers_are_accepted() -> None:
    alerting = {"email": {**EMAIL, "username": "alerts", "password": "pw"},
                "slackWebhook": "https://hooks.slack.com/services/T0/B0/abc", "pagerdutyRoutingKey": "R0UT1NGKEY"}
    evaluation = evaluate("dev", {"alerting": alerting}, secret_keys=["dreamscape:alerting"])
    assert evaluation.resources, "a valid alerting section (from secret config) deploys"
