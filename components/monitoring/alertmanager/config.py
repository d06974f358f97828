"""alertmanager.yml: email and Slack for every alert, PagerDuty only for `severity="critical"`.

Each receiver is optional. With none configured, everything goes to a receiver without integrations
(`null`), which is still a valid config. Secrets are never inlined: Slack's webhook URL, PagerDuty's
routing key and the SMTP password are read from files (`api_url_file`, `routing_key_file`,
`auth_password_file`).
"""

from __future__ import annotations

from dataclasses import dataclass

from components.monitoring._yaml import dump_yaml

NULL_RECEIVER = "null"
TEAM_RECEIVER = "team"
PAGERDUTY_RECEIVER = "pagerduty"
CRITICAL_MATCHER = 'severity="critical"'


@dataclass(frozen=True)
class EmailReceiver:
    to: str
    sender: str
    smarthost: str
    """host:port of the SMTP relay."""
    auth_username: str | None = None
    auth_password_file: str | None = None
    require_tls: bool = True

    def __post_init__(self) -> None:
        if (self.auth_username is None) != (self.auth_password_file is None):
            raise ValueError("auth_username and auth_password_file go together")


@dataclass(frozen=True)
class SlackReceiver:
    api_url_file: str
    channel: str = "#dreamscape-alerts"


@dataclass(frozen=True)
class PagerDutyReceiver:
    routing_key_file: str


@dataclass(frozen=True)
class AlertmanagerArgs:
    email: EmailReceiver | None = None
    slack: SlackReceiver | None = None
    pagerduty: PagerDutyReceiver | None = None
    group_by: tuple[str, ...] = ("alertname", "environment", "pod", "service")
    group_wait: str = "30s"
    group_interval: str = "5m"
    repeat_interval: str = "4h"


def _email(email: EmailReceiver) -> dict[str, object]:
    config: dict[str, object] = {
        "to": email.to,
        "from": email.sender,
        "smarthost": email.smarthost,
        "require_tls": email.require_tls,
        "send_resolved": True,
    }
    if email.auth_username is not None:
        config["auth_username"] = email.auth_username
        config["auth_password_file"] = email.auth_password_file
    return config


def _slack(slack: SlackReceiver) -> dict[str, object]:
    return {
        "api_url_file": slack.api_url_file,
        "channel": slack.channel,
        "send_resolved": True,
        "title": "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.environment }})",
        "text": "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ .Annotations.description }}\n{{ end }}",
    }


def alertmanager_config(args: AlertmanagerArgs) -> dict[str, object]:
    receivers: list[dict[str, object]] = []
    team: dict[str, object] = {"name": TEAM_RECEIVER}
    if args.email is not None:
        team["email_configs"] = [_email(args.email)]
    if args.slack is not None:
        team["slack_configs"] = [_slack(args.slack)]
    default_receiver = TEAM_RECEIVER if len(team) > 1 else NULL_RECEIVER
    receivers.append(team if default_receiver == TEAM_RECEIVER else {"name": NULL_RECEIVER})

    route: dict[str, object] = {
        "receiver": default_receiver,
        "group_by": list(args.group_by),
        "group_wait": args.group_wait,
        "group_interval": args.group_interval,
        "repeat_interval": args.repeat_interval,
    }
    if args.pagerduty is not None:
        receivers.append(
            {
                "name": PAGERDUTY_RECEIVER,
                "pagerduty_configs": [
                    {"routing_key_file": args.pagerduty.routing_key_file, "send_resolved": True}
                ],
            }
        )
        routes: list[dict[str, object]] = [
            {"receiver": PAGERDUTY_RECEIVER, "matchers": [CRITICAL_MATCHER], "continue": True}
        ]
        # Once a child route matches, the parent's receiver is skipped; an explicit catch-all child keeps
        # critical alerts flowing to email/Slack as well as to PagerDuty.
        if default_receiver == TEAM_RECEIVER:
            routes.append({"receiver": TEAM_RECEIVER})
        route["routes"] = routes

    return {
        "route": route,
        "inhibit_rules": [
            {
                "source_matchers": [CRITICAL_MATCHER],
                "target_matchers": ['severity="warning"'],
                "equal": ["alertname", "environment", "pod", "service"],
            }
        ],
        "receivers": receivers,
    }


def render_alertmanager_config(args: AlertmanagerArgs) -> str:
    return dump_yaml(alertmanager_config(args))


def alertmanager_cli_flags(config_file: str, data_dir: str, retention: str = "120h") -> list[str]:
    """Container args for the Alertmanager image."""
    return [f"--config.file={config_file}", f"--storage.path={data_dir}", f"--data.retention={retention}"]
