"""One DreamScape environment: the target, the generated secrets, and every service, wired together."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi
import pulumi_random as random
from pydantic import SecretStr

from components import budgets, devtools, spec, stateful
from components.backup import Backup, BackupArgs
from components.config import StackConfig
from components.config import Target as TargetKind
from components.config.loader import ROOT, workspace_path
from components.infra import Kafka, KafkaArgs, Minio, MinioArgs, Postgres, PostgresArgs, Redis, RedisArgs
from components.infra.common import resources_of
from components.infra.minio import ROOT_USER as MINIO_ROOT_USER
from components.infra.postgres import SUPERUSER as POSTGRES_SUPERUSER
from components.monitoring import AlertReceivers, EmailSettings, MonitoringStack, MonitoringStackArgs, Scraped
from components.pods.bigpod import BigPod, BigPodArgs, InfraLink
from components.pods.catalog import CATALOG, Infra, PodDefinition
from components.pods.render.dockerfile import DEV_TARGET, INFRA_CONTEXT, image_dir
from components.pods.render.nginx import NginxSettings
from components.pods.source import choose_source
from components.secrets import GeneratedSecrets, GeneratedSecretsArgs
from components.targets import Target, TargetSettings, load_target

EDGE_USER = "ops"
"""The user the edge's basic auth asks for in front of Grafana (password: the `edgeAuth` secret)."""


def alert_receivers(config: StackConfig) -> AlertReceivers:
    """Receivers from the optional `alerting` config. The engine hands secret config over in plain text,
    so every secret value is wrapped in `Output.secret` here, before it reaches any resource."""
    alerting = config.alerting

    def secret(value: SecretStr | None) -> pulumi.Output[str] | None:
        return None if value is None else pulumi.Output.secret(value.get_secret_value())

    email = None
    if alerting.email is not None:
        email = EmailSettings(to=alerting.email.to, sender=alerting.email.from_, smarthost=alerting.email.smarthost,
                              username=alerting.email.username, password=secret(alerting.email.password))
    return AlertReceivers(email=email, slack_webhook=secret(alerting.slack_webhook),
                          slack_channel=alerting.slack_channel,
                          pagerduty_routing_key=secret(alerting.pagerduty_routing_key))


def review_annotations(config: StackConfig) -> dict[str, str]:
    if config.review is None:
        return {}
    return {
        "dreamscape.io/review-pr": str(config.review.pr),
        "dreamscape.io/review-commit": config.review.commit,
        "dreamscape.io/expires-at": config.review.expires_at.isoformat(),
    }


class Environment(pulumi.ComponentResource):
    """Everything one stack runs. `outputs` is what __main__ exports."""

    outputs: dict[str, Any]

    def __init__(self, name: str, config: StackConfig, opts: pulumi.ResourceOptions | None = None):
        # -- Capacity budgets (components/budgets.py): before any registration -------------------------
        budgets.check(name, config)

        super().__init__("dreamscape:platform:Environment", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        protect = config.protect_data
        # The KRaft cluster id is the identity of every log on disk: generated once, never replaced.
        cluster_id = random.RandomId("kafka-cluster-id", byte_length=16,
                                     opts=pulumi.ResourceOptions(parent=self, protect=protect))

        # -- Stateful guard (components/stateful.py): the provider waits for the check --------------
        itself = pulumi.StackReference(
            f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}",
            opts=pulumi.ResourceOptions(parent=self))
        allowed = dict(config.allow_stateful_change)
        identity = pulumi.Output.all(
            previous=itself.get_output("statefulIdentity"),
            current=pulumi.Output.from_input(
                {**stateful.identity(config), "kafka.clusterId": cluster_id.b64_url}),
        ).apply(lambda v: stateful.verify(name, v["previous"], v["current"], allowed))
        gate = identity.apply(lambda _: itself)

        settings = TargetSettings(environment=name, protect=protect, annotations=review_annotations(config),
                                  gate=gate)
        target = load_target(config, settings, child)
        secrets = GeneratedSecrets("secrets", GeneratedSecretsArgs(config.secret_rotation, protect), child)
        published = config.target is TargetKind.DOCKER
        ports = config.docker.host_ports if published else {}
        rotation = config.secret_rotation

        postgres = Postgres("postgres", PostgresArgs(
            config=config.postgres,
            superuser_password=secrets["postgresSuperuser"],
            app_password=secrets["postgresApp"],
            target=target,
            host_port=ports.get("postgres"),
            run_id=f"{rotation.get('postgresSuperuser', 0)}-{rotation.get('postgresApp', 0)}",
        ), child)
        redis = Redis("redis", RedisArgs(
            config=config.redis, password=secrets["redis"], target=target, host_port=ports.get("redis"),
        ), child)
        external = f"{config.docker.publish_address}:{ports['kafka']}" if "kafka" in ports else None
        kafka = Kafka("kafka", KafkaArgs(
            config=config.kafka, cluster_id=cluster_id.b64_url, target=target,
            external_address=external, host_port=ports.get("kafka"),
        ), child)
        minio = Minio("minio", MinioArgs(
            config=config.minio, root_password=secrets["minioRoot"], target=target,
            api_host_port=ports.get("minio"), console_host_port=ports.get("minioConsole"),
        ), child)

        # --- backups (issue 7): nightly pg_dump to MinIO, Kubernetes only -------------------------------
        # Docker has no scheduler (it skips scheduled tasks); dev dumps and restores with tools/dev_db.py.
        backup = None
        if config.backup.enabled and config.target is TargetKind.KUBERNETES:
            backup = Backup("backup", BackupArgs(
                config=config.backup, postgres=config.postgres, minio=config.minio,
                app_password=secrets["postgresApp"], minio_root_password=secrets["minioRoot"],
                backup_secret_key=secrets["backup"], target=target,
                postgres_host=postgres.host, minio_host=minio.host, after=(minio.deployed,),
                run_id=f"{rotation.get('backup', 0)}-{rotation.get('minioRoot', 0)}",
            ), child)
        # --- end backups ------------------------------------------------------------------------------------

        # --- monitoring (issue 4): Prometheus, exporters, Alertmanager, Grafana, Loki, Alloy ---------------
        monitoring = MonitoringStack("monitoring", MonitoringStackArgs(
            config=config.monitoring,
            target=target,
            environment=name,
            scraped=Scraped(
                postgres_host=postgres.host, postgres_port=postgres.port, postgres_user=POSTGRES_SUPERUSER,
                postgres_password=secrets["postgresSuperuser"],
                redis_addresses=tuple(dict.fromkeys(f"{h}:{redis.port}" for h in [redis.host, *redis.nodes])),
                redis_password=secrets["redis"], redis_cluster=redis.mode == "cluster",
                kafka_bootstrap=kafka.bootstrap_servers, kafka_brokers=config.kafka.brokers,
                minio_access_key=minio.root_user, minio_secret_key=secrets["minioRoot"],
            ),
            grafana_admin_password=secrets["grafanaAdmin"],
            receivers=alert_receivers(config),
            kubernetes_namespace=None if published else config.kubernetes.namespace_for(name),
            grafana_host_port=ports.get("grafana"),
            prometheus_host_port=ports.get("prometheus"),
        ), child)
        # --- end monitoring ---------------------------------------------------------------------------------

        address = str(config.docker.publish_address)
        def reach(service: str, port: int) -> str:
            return f"{address}:{ports[service]}" if service in ports else f"{service}:{port}"

        self.outputs = {
            "environment": name,
            "target": config.target.value,
            "endpoints": {
                "postgres": reach("postgres", postgres.port),
                "redis": reach("redis", redis.port),
                "kafka": reach("kafka", 9092),
                "minio": f"http://{reach('minio', 9000)}",
                "minioConsole": f"http://{reach('minioConsole', 9001)}",
            },
            "postgresUrl": postgres.url,
            "redisUrl": redis.url,
            "redisNodes": redis.nodes,
            "kafkaBootstrapServers": kafka.bootstrap_servers,
            "kafkaTopics": kafka.topics,
            "minioBuckets": minio.buckets,
            "minioRootUser": minio.root_user,
            "minioRootPassword": secrets["minioRoot"],
            # monitoring: in prod Grafana is only a cluster Service (the Ingress adds TLS + auth).
            "grafanaUrl": f"http://{reach('grafana', monitoring.grafana_port)}",
            "prometheusUrl": f"http://{reach('prometheus', monitoring.prometheus_port)}",
            "grafanaAdminPassword": secrets["grafanaAdmin"],
            "statefulIdentity": identity,
            "backup": {"bucket": backup.bucket, "schedule": backup.schedule} if backup else None,
        }

        # --- Big Pods and the edge (issue 3) -------------------------------------------------------
        links = {
            Infra.POSTGRES: InfraLink(
                env={"DATABASE_HOST": postgres.host, "DATABASE_PORT": str(postgres.port),
                     "DATABASE_NAME": postgres.database, "DATABASE_USER": postgres.app_user,
                     "DATABASE_PASSWORD_FILE": f"{spec.SECRETS_DIR}/database-password"},
                secret_files=(spec.SecretFile("database-password", secrets["postgresApp"]),),
                deployed=postgres.deployed,
            ),
            Infra.REDIS: InfraLink(
                env={"REDIS_HOST": redis.host, "REDIS_PORT": str(redis.port), "REDIS_MODE": redis.mode,
                     "REDIS_NODES": ",".join(f"{node}:{redis.port}" for node in redis.nodes),
                     "REDIS_PASSWORD_FILE": f"{spec.SECRETS_DIR}/redis-password"},
                secret_files=(spec.SecretFile("redis-password", secrets["redis"]),),
                deployed=redis.deployed,
            ),
            Infra.KAFKA: InfraLink(
                env={"KAFKA_BROKERS": kafka.bootstrap_servers}, secret_files=(), deployed=kafka.deployed,
            ),
            Infra.MINIO: InfraLink(
                env={"MINIO_ENDPOINT": minio.endpoint, "MINIO_BUCKET": minio.buckets[0],
                     "MINIO_ACCESS_KEY_FILE": f"{spec.SECRETS_DIR}/minio-access-key",
                     "MINIO_SECRET_KEY_FILE": f"{spec.SECRETS_DIR}/minio-secret-key"},
                secret_files=(spec.SecretFile("minio-access-key", pulumi.Output.secret(MINIO_ROOT_USER)),
                              spec.SecretFile("minio-secret-key", secrets["minioRoot"])),
                deployed=minio.deployed,
            ),
        }
        jwt = (spec.SecretFile("jwt-access-secret", secrets["jwtAccess"]),
               spec.SecretFile("jwt-refresh-secret", secrets["jwtRefresh"]))
        namespace = config.kubernetes.namespace_for(name)
        nginx = None if published else NginxSettings(
            resolvers=(str(config.kubernetes.cluster_dns),),
            pod_hosts={pod.name: f"{pod.hostname}.{namespace}.svc.cluster.local" for pod in CATALOG},
        )
        # Dev: the service checkouts or the reference application (dreamscape:application).
        source = choose_source(name, config) if published else None
        if source is not None and source.notice:
            pulumi.log.warn(source.notice)
        pods = {
            pod.name: BigPod(f"pod-{pod.name}", BigPodArgs(
                pod=pod, target=target, image=pod_image(config, pod, source.root if source else None),
                infra=links, jwt_secret_files=jwt,
                replicas=pod_replicas(config, pod), max_replicas=config.pods[pod.name].max_replicas
                if pod.name in config.pods else pod_replicas(config, pod),
                resources=pod_resources(config, pod),
                workspace=source.root if source else None,
                host_ports=ports, nginx=nginx,
            ), child)
            for pod in CATALOG
        }
        self.outputs["urls"] = {**expose(config, target, self, pods, secrets, site_domain(name, config.domain)), **({
            "minioConsole": f"http://localhost:{ports['minioConsole']}"} if "minioConsole" in ports else {})}
        self.outputs["edgeAuth"] = {"user": EDGE_USER, "password": secrets["edgeAuth"]}
        # --- end Big Pods and the edge -------------------------------------------------------------

        # --- dev tools (issue 7): opt-in admin UIs, Docker only (config validation refuses kubernetes) ----
        if devtools.enabled(config.dev_tools):
            tools = devtools.DevTools("devtools", devtools.DevToolsArgs(
                config=config.dev_tools, target=target, host_ports=ports,
                pgadmin_password=secrets["pgadmin"], postgres_host=postgres.host, postgres_port=postgres.port,
                postgres_user=postgres.app_user, postgres_database=postgres.database,
                redis_host=redis.host, redis_port=redis.port,
                kafka_bootstrap=kafka.bootstrap_servers,
            ), child)
            self.outputs["urls"] = {**self.outputs["urls"], **tools.urls}
            self.outputs["pgadminLogin"] = {"email": devtools.PGADMIN_EMAIL, "password": secrets["pgadmin"]}
        # --- end dev tools --------------------------------------------------------------------------------
        self.register_outputs(self.outputs)


# --- Big Pods and the edge (issue 3): helpers ----------------------------------------------------
def pod_replicas(config: StackConfig, pod: PodDefinition) -> int:
    override = config.pods.get(pod.name)
    return override.replicas if override and override.replicas else pod.replicas


def pod_resources(config: StackConfig, pod: PodDefinition) -> spec.Resources:
    override = config.pods.get(pod.name)
    if override and override.resources:
        return resources_of(override.resources)
    r = pod.resources
    return spec.Resources(r.cpu_request, r.cpu_limit, r.memory_request, r.memory_limit)


@budgets.footprint_source("pods")
def pod_footprints(config: StackConfig) -> list[budgets.Footprint]:
    """The Big Pods' share of the capacity budgets: replicas x the per-pod requests and limits."""
    return [budgets.Footprint(pod.hostname, pod_resources(config, pod), pod_replicas(config, pod)) for pod in CATALOG]


def pod_image(config: StackConfig, pod: PodDefinition, source: Path | None = None) -> str | spec.ImageBuild:
    """Dev builds the `dev` stage from the application source root; clusters pull
    `<registry>/dreamscape-<pod>:<tag>`."""
    if config.target is TargetKind.KUBERNETES:
        return f"{config.registry}/dreamscape-{pod.name}:{config.image_tag}"
    configs = ROOT / str(image_dir(pod))
    return spec.ImageBuild(
        name=f"dreamscape-{pod.name}:{config.image_tag}-dev",
        context=str(source or workspace_path(config)),
        dockerfile=str(configs / "Dockerfile"),
        target=DEV_TARGET,
        # The rendered supervisord/NGINX configs: a named context, so the workspace may live anywhere.
        named_contexts={INFRA_CONTEXT: str(configs)},
    )


REVIEW_PREFIX = "review-"


def site_domain(environment: str, domain: str) -> str:
    """Review stacks get their own subdomain of the review domain (`review-pr-123` -> `pr-123.<domain>`),
    so two reviews never share a hostname; every other stack serves the configured domain itself."""
    if environment.startswith(REVIEW_PREFIX):
        return f"{environment.removeprefix(REVIEW_PREFIX)}.{domain}"
    return domain


def expose(config: StackConfig, target: Target, parent: pulumi.Resource, pods: Mapping[str, BigPod],
           secrets: GeneratedSecrets, domain: str) -> dict[str, str]:
    """The web app, the API (core pod NGINX) and Grafana (behind basic auth at the edge), on `domain`."""
    ports = config.docker.host_ports if config.target is TargetKind.DOCKER else {}
    core = CATALOG[0]
    gateway = core.gateway
    assert gateway is not None, "the core pod runs the NGINX gateway"
    web = next(p for p in CATALOG if p.has_service("web"))
    routes = [
        spec.Route("web", f"app.{domain}", pods[web.name].host, web.service("web").port,
                   host_port=ports.get("web")),
        spec.Route("api", f"api.{domain}", pods[core.name].host, gateway.listen_port,
                   host_port=ports.get("nginx")),
        spec.Route("grafana", f"grafana.{domain}", "grafana", 3000, host_port=ports.get("grafana"),
                   auth=spec.BasicAuth(EDGE_USER, secrets["edgeAuth"])),
    ]
    return target.expose(routes, parent)

