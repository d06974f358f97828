"""One DreamScape environment: plan every blueprint, check the plan, then deploy it through the target.

Order matters and is the point of this module:
1. `plan.build` describes everything that will run, from config alone (secret values are outputs bound
   later), registering nothing;
2. views derived from that plan are checked: host ports, capacity budgets. A failure stops the run
   before any resource is registered;
3. the resources are registered: the generated secrets, the stateful guard (the provider waits for it),
   the target, and one component per blueprint, each deploying exactly what was checked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_random as random

from components import budgets, plan, publishing, stateful
from components.access import stack_access
from components.backup import Backup
from components.config import ConfigError, StackConfig
from components.deploy import BlueprintArgs, Deployments
from components.devtools import PGADMIN_EMAIL, DevTools
from components.infra import exports
from components.infra.registry import REGISTRY
from components.monitoring.stack import MonitoringStack, MonitoringStackArgs
from components.pods.bigpod import BigPod
from components.pods.source import choose_source
from components.secrets import GeneratedSecrets, GeneratedSecretsArgs, PendingSecrets
from components.targets import PlatformFacts, TargetSettings, facts_for, load_target


def review_annotations(config: StackConfig) -> dict[str, str]:
    if config.review is None:
        return {}
    return {
        "dreamscape.io/review-pr": str(config.review.pr),
        "dreamscape.io/review-commit": config.review.commit,
        "dreamscape.io/expires-at": config.review.expires_at.isoformat(),
    }


def check(name: str, config: StackConfig, planned: plan.EnvironmentPlan, platform: PlatformFacts) -> None:
    """Everything about the plan that can be refused without a previous state, in one message."""
    problems = publishing.problems(planned.publishing, planned.services())
    if problems:
        raise ConfigError("\n".join([
            f"Invalid configuration for stack '{name}': {len(problems)} problem(s). Nothing was changed.",
            *(f"  - {problem}" for problem in problems)]))
    budgets.check(name, config, planned.services(), platform.reserved)


class Environment(pulumi.ComponentResource):
    """Everything one stack runs. `outputs` is what __main__ exports."""

    outputs: dict[str, Any]

    def __init__(self, name: str, config: StackConfig, opts: pulumi.ResourceOptions | None = None):
        platform = facts_for(config, name)
        # Built from source (a laptop): the service checkouts or the reference application.
        source = choose_source(name, config) if platform.builds_from_source else None
        if source is not None and source.notice:
            pulumi.log.warn(source.notice)
        secrets = PendingSecrets()
        cluster_id: pulumi.Output[str]
        bind_cluster_id: Callable[[pulumi.Output[str]], None]
        cluster_id, bind_cluster_id = pulumi.deferred_output()
        try:
            planned = plan.build(plan.PlanInputs(config=config, platform=platform,
                                                 secrets=secrets, kafka_cluster_id=cluster_id,
                                                 source_root=source.root if source else None))
            check(name, config, planned, platform)
        except Exception:
            # Nothing was registered; outputs built on the pending values must still settle.
            secrets.abandon()
            bind_cluster_id(pulumi.Output.from_input(""))
            raise

        super().__init__("dreamscape:platform:Environment", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        protect = config.protect_data
        # The KRaft cluster id is the identity of every log on disk: generated once, never replaced.
        kafka_cluster_id = random.RandomId("kafka-cluster-id", byte_length=16,
                                           opts=pulumi.ResourceOptions(parent=self, protect=protect))
        bind_cluster_id(kafka_cluster_id.b64_url)
        generated = GeneratedSecrets("secrets", GeneratedSecretsArgs(config.secret_rotation, protect), child)
        secrets.bind(generated.values)

        # The stateful guard: the provider waits for the comparison with this stack's previous identity.
        itself = pulumi.StackReference(
            f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}",
            opts=pulumi.ResourceOptions(parent=self))
        allowed = dict(config.allow_stateful_change)
        identity = pulumi.Output.all(
            previous=itself.get_output("statefulIdentity"),
            current=pulumi.Output.from_input(stateful.identity(planned.services(), platform)),
        ).apply(lambda v: stateful.verify(name, v["previous"], v["current"], allowed))
        gate = identity.apply(lambda _: itself)

        settings = TargetSettings(environment=name, protect=protect, annotations=review_annotations(config),
                                  gate=gate)
        target = load_target(config, settings, child)
        # Read-only preview identity and registry pull credentials, before any pod exists (components/access.py).
        target.grant_access(stack_access(config, planned.services()), self)
        deployments = Deployments()

        def deploy(blueprint: Any, outputs: dict[str, Any] | None = None) -> BlueprintArgs:
            return BlueprintArgs(blueprint=blueprint, target=target, deployments=deployments, outputs=outputs or {})

        for entry in REGISTRY:
            infra = planned.infra[entry.need]
            entry.component(entry.name, deploy(infra.blueprint, dict(infra.outputs)), child)
        if planned.backup is not None:
            Backup("backup", deploy(planned.backup, {"bucket": config.backup.bucket}), child)
        MonitoringStack("monitoring", MonitoringStackArgs(blueprints=planned.monitoring, target=target,
                                                          deployments=deployments), child)
        for pod_name, blueprint in planned.pods.items():
            BigPod(f"pod-{pod_name}", deploy(blueprint, {"replicas": blueprint.services[0].replicas}), child)
        if planned.devtools is not None:
            DevTools("devtools", deploy(planned.devtools), child)

        routes = planned.routes(plan.site_domain(name, config.domain), secrets["edgeAuth"])
        urls = target.expose(routes, self)
        reach = planned.publishing
        services = {service.name: service for service in planned.services()}

        def endpoint(service: str, port: str) -> str:
            declared = services[service].port(port)
            if declared.host_port is not None:
                return f"{reach.address}:{declared.host_port}"
            return f"{service}:{declared.number}"

        # Every infra service's endpoints and outputs, from the registry (components/infra/exports.py).
        infra_endpoints = exports.endpoints(REGISTRY, services, planned.infra, reach)
        urls.update(exports.operator_urls(infra_endpoints))
        self.outputs = {
            "environment": name,
            "target": config.target.value,
            "endpoints": {found.key: found.address for found in infra_endpoints},
            **exports.outputs(REGISTRY, planned.infra),
            # In prod Grafana is only a cluster Service (the Ingress adds TLS + auth).
            "grafanaUrl": f"http://{endpoint('grafana', 'grafana')}",
            "prometheusUrl": f"http://{endpoint('prometheus', 'prometheus')}",
            "grafanaAdminPassword": secrets["grafanaAdmin"],
            "statefulIdentity": identity,
            "backup": ({"bucket": config.backup.bucket, "schedule": config.backup.schedule}
                       if planned.backup is not None else None),
            "urls": urls,
            "edgeAuth": {"user": plan.EDGE_USER, "password": secrets["edgeAuth"]},
        }
        if planned.devtools is not None and planned.devtools.services and "pgadmin" in services:
            self.outputs["pgadminLogin"] = {"email": PGADMIN_EMAIL, "password": secrets["pgadmin"]}
        self.register_outputs(self.outputs)
