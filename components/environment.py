"""One DreamScape environment: the target, the generated secrets, and every service, wired together."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_random as random
from pydantic import SecretStr

from components.config import StackConfig
from components.config import Target as TargetKind
from components.infra import Kafka, KafkaArgs, Minio, MinioArgs, Postgres, PostgresArgs, Redis, RedisArgs
from components.infra.postgres import SUPERUSER as POSTGRES_SUPERUSER
from components.monitoring import AlertReceivers, EmailSettings, MonitoringStack, MonitoringStackArgs, Scraped
from components.secrets import GeneratedSecrets, GeneratedSecretsArgs
from components.targets import TargetSettings, load_target


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
        super().__init__("dreamscape:platform:Environment", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        protect = config.protect_data
        settings = TargetSettings(environment=name, protect=protect, annotations=review_annotations(config))
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
        # The KRaft cluster id is the identity of every log on disk: generated once, never replaced.
        cluster_id = random.RandomId("kafka-cluster-id", byte_length=16,
                                     opts=pulumi.ResourceOptions(parent=self, protect=protect))
        external = f"{config.docker.publish_address}:{ports['kafka']}" if "kafka" in ports else None
        kafka = Kafka("kafka", KafkaArgs(
            config=config.kafka, cluster_id=cluster_id.b64_url, target=target,
            external_address=external, host_port=ports.get("kafka"),
        ), child)
        minio = Minio("minio", MinioArgs(
            config=config.minio, root_password=secrets["minioRoot"], target=target,
            api_host_port=ports.get("minio"), console_host_port=ports.get("minioConsole"),
        ), child)

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
        }
        self.register_outputs(self.outputs)
