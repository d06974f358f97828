"""Alertmanager: receivers from the secret `alerting` config; with none set (dev, review, or an explicit
opt-out), alerts go nowhere.

Routing and inhibition are in `alertmanager/config.py`.

Every secret (Slack webhook, PagerDuty routing key, SMTP password) reaches the container as a secret
file (`*_file` settings). The addresses of the email receiver came from secret config too, so when email
is configured alertmanager.yml itself is a secret file (a Kubernetes Secret, never a ConfigMap).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components import spec
from components.config import MonitoredServiceConfig
from components.deploy import BlueprintComponent
from components.infra.common import resources_of
from components.monitoring.alertmanager.config import (
    AlertmanagerArgs,
    AlertmanagerPaths,
    EmailReceiver,
    PagerDutyReceiver,
    SlackReceiver,
    alertmanager_cli_flags,
    render_alertmanager_config,
)
from components.monitoring.common import ALERTMANAGER, ALERTMANAGER_PORT, COMPONENT, NOBODY
from components.targets.labels import EGRESS_LABEL


@dataclass(frozen=True)
class EmailSettings:
    to: str
    sender: str
    smarthost: str
    username: str | None = None
    password: pulumi.Output[str] | None = None


@dataclass(frozen=True)
class AlertReceivers:
    """Receiver settings; every secret is already a `pulumi.Output.secret`."""

    email: EmailSettings | None = None
    slack_webhook: pulumi.Output[str] | None = None
    slack_channel: str | None = None
    pagerduty_routing_key: pulumi.Output[str] | None = None
    ports: tuple[int, ...] = ()
    """The TCP ports of the configured receivers (`AlertingConfig.receiver_ports`): the only ones opened."""


@dataclass(frozen=True, kw_only=True)
class AlertmanagerComponentArgs:
    config: MonitoredServiceConfig
    receivers: AlertReceivers


def receiver_files(receivers: AlertReceivers) -> tuple[AlertmanagerArgs, tuple[spec.SecretFile, ...]]:
    """The typed generator arguments and the secret files they point at."""
    files: list[spec.SecretFile] = []
    email = slack = pagerduty = None
    if receivers.email is not None:
        password_file = None
        if receivers.email.password is not None:
            secret = spec.SecretFile("alertmanager-smtp-password", receivers.email.password)
            files.append(secret)
            password_file = secret.path
        email = EmailReceiver(to=receivers.email.to, sender=receivers.email.sender,
                              smarthost=receivers.email.smarthost, auth_username=receivers.email.username,
                              auth_password_file=password_file)
    if receivers.slack_webhook is not None:
        secret = spec.SecretFile("alertmanager-slack-api-url", receivers.slack_webhook)
        files.append(secret)
        slack = (SlackReceiver(api_url_file=secret.path, channel=receivers.slack_channel)
                 if receivers.slack_channel else SlackReceiver(api_url_file=secret.path))
    if receivers.pagerduty_routing_key is not None:
        secret = spec.SecretFile("alertmanager-pagerduty-routing-key", receivers.pagerduty_routing_key)
        files.append(secret)
        pagerduty = PagerDutyReceiver(routing_key_file=secret.path)
    return AlertmanagerArgs(email=email, slack=slack, pagerduty=pagerduty), tuple(files)


def blueprint(args: AlertmanagerComponentArgs) -> spec.Blueprint:
    """Routes critical alerts to PagerDuty and Slack, warnings to Slack and email."""
    paths = AlertmanagerPaths()
    generator_args, secret_files = receiver_files(args.receivers)
    config_text = render_alertmanager_config(generator_args)
    service = spec.Service(
        name=ALERTMANAGER,
        component=COMPONENT,
        # MONITORING is not internal on Docker: notifications leave for SMTP, Slack and PagerDuty.
        zone=spec.Zone.MONITORING,
        # Notifications leave for Slack, PagerDuty and SMTP on their configured ports; nothing inside
        # the cluster.
        labels={EGRESS_LABEL: "receivers"},
        internet_ports=args.receivers.ports,
        kind=spec.WorkloadKind.STATEFUL,
        ports=(spec.Port("alertmanager", ALERTMANAGER_PORT, metrics_path="/metrics"),),
        volumes=(spec.DataVolume("data", paths.data_dir, args.config.storage),),
        probes=spec.Probes(
            readiness=spec.Probe(http_path="/-/ready", port=ALERTMANAGER_PORT),
            liveness=spec.Probe(http_path="/-/healthy", port=ALERTMANAGER_PORT, period_seconds=20),
        ),
        container=spec.Container(
            image=args.config.image,
            resources=resources_of(args.config.resources),
            args=tuple(alertmanager_cli_flags(paths.config_file, paths.data_dir)),
            config_files=(
                spec.ConfigFile(paths.config_file, config_text, secret=generator_args.email is not None),
            ),
            secret_files=secret_files,
            security=spec.Security(run_as_user=NOBODY, run_as_group=NOBODY, fs_group=NOBODY),
        ),
    )
    return spec.Blueprint(services=(service,))


class Alertmanager(BlueprintComponent):
    """Routes critical alerts to PagerDuty and Slack, warnings to Slack and email."""

    TYPE = "dreamscape:monitoring:Alertmanager"
