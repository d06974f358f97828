"""alertmanager.yml: critical to PagerDuty + chat, warning to chat + email, inhibition, secrets as files."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.monitoring.alertmanager.config import (
    AlertmanagerArgs,
    EmailReceiver,
    PagerDutyReceiver,
    SlackReceiver,
    render_alertmanager_config,
)
from tests.tooling import require_tool


def _all_receivers(base: Path) -> AlertmanagerArgs:
    secrets = {name: base / name for name in ("smtp-password", "slack-api-url", "pagerduty-routing-key")}
    for path in secrets.values():
        path.write_text("placeholder-for-tests\n")
    return AlertmanagerArgs(
        email=EmailReceiver(
            "devops@dreamscape.ai",
            "alerts@dreamscape.ai",
            "smtp.example.org:587",
            "alerts",
            str(secrets["smtp-password"]),
        ),
        slack=SlackReceiver(str(secrets["slack-api-url"])),
        pagerduty=PagerDutyReceiver(str(secrets["pagerduty-routing-key"])),
    )


def _load(text: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def _receivers(config: dict[str, Any]) -> dict[str, set[str]]:
    return {r["name"]: {k.removesuffix("_configs") for k in r if k != "name"} for r in config["receivers"]}


def test_without_receivers_both_severity_receivers_exist_without_integrations() -> None:
    config = _load(render_alertmanager_config(AlertmanagerArgs()))
    assert config["route"]["receiver"] == "warning", "the root route needs a receiver even with no integrations"
    assert _receivers(config) == {"critical": set(), "warning": set()}, "no integrations: valid, drops alerts"


def test_critical_pages_and_chats_and_warning_chats_and_mails(tmp_path: Path) -> None:
    config = _load(render_alertmanager_config(_all_receivers(tmp_path)))
    assert _receivers(config) == {"critical": {"pagerduty", "slack"}, "warning": {"slack", "email"}}, (
        "critical -> PagerDuty + chat; warning -> chat + email")
    assert [(r["receiver"], r["matchers"]) for r in config["route"]["routes"]] == [
        ("critical", ['severity="critical"']), ("warning", ['severity="warning"'])], "routed by severity"


def test_without_pagerduty_critical_alerts_also_go_by_email(tmp_path: Path) -> None:
    args = _all_receivers(tmp_path)
    config = _load(render_alertmanager_config(AlertmanagerArgs(email=args.email, slack=args.slack)))
    assert _receivers(config)["critical"] == {"slack", "email"}, "critical never has fewer channels than warning"


def test_a_node_down_inhibits_the_alerts_of_that_node_and_a_service_down_its_own(tmp_path: Path) -> None:
    rules = _load(render_alertmanager_config(_all_receivers(tmp_path)))["inhibit_rules"]
    node = next(r for r in rules if r["source_matchers"] == ['alertname="NodeDown"'])
    assert node["equal"] == ["environment", "node"], "one node down silences that node's per-pod alerts"
    service = next(r for r in rules if r["source_matchers"] == ['alertname="ServiceDown"'])
    assert service["equal"] == ["environment", "pod", "service"], "a down process silences its other alerts"


def test_secrets_are_referenced_by_file_and_never_inlined(tmp_path: Path) -> None:
    text = render_alertmanager_config(_all_receivers(tmp_path))
    for key in ("auth_password_file", "api_url_file", "routing_key_file"):
        assert f"{key}:" in text, f"{key} must reference the mounted secret"
    for key in ("auth_password:", "api_url:", "routing_key:", "service_key:"):
        assert key not in text, f"{key} would inline a secret"
    assert "placeholder-for-tests" not in text, "secret contents must never reach the config"


def test_email_auth_username_without_a_password_file_is_rejected() -> None:
    with pytest.raises(ValueError, match="go together"):
        EmailReceiver("a@b.c", "x@b.c", "smtp:587", auth_username="alerts")


@pytest.mark.tools
@pytest.mark.parametrize("receivers", ["none", "all"])
def test_amtool_accepts_the_config(tmp_path: Path, receivers: str) -> None:
    amtool = require_tool("amtool")
    args = AlertmanagerArgs() if receivers == "none" else _all_receivers(tmp_path)
    config = tmp_path / "alertmanager.yml"
    config.write_text(render_alertmanager_config(args))
    result = subprocess.run(
        [amtool, "check-config", str(config)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"amtool rejects the config ({receivers}):\n{result.stdout}{result.stderr}"


@pytest.mark.tools
@pytest.mark.parametrize(("severity", "expected"), [("critical", "critical"), ("warning", "warning")])
def test_amtool_routes_critical_alerts_to_pagerduty_and_the_team(
    tmp_path: Path, severity: str, expected: str
) -> None:
    amtool = require_tool("amtool")
    config = tmp_path / "alertmanager.yml"
    config.write_text(render_alertmanager_config(_all_receivers(tmp_path)))
    result = subprocess.run(
        [
            amtool,
            "config",
            "routes",
            "test",
            f"--config.file={config}",
            f"severity={severity}",
            "alertname=X",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"amtool routes test failed:\n{result.stdout}{result.stderr}"
    assert result.stdout.strip() == expected, (
        f"severity={severity} must reach {expected}, got {result.stdout!r}"
    )
