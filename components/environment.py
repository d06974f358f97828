"""One DreamScape environment: the target, the generated secrets, and every service, wired together."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_random as random

from components import budgets, stateful
from components.config import StackConfig
from components.config import Target as TargetKind
from components.infra import Kafka, KafkaArgs, Minio, MinioArgs, Postgres, PostgresArgs, Redis, RedisArgs
from components.secrets import GeneratedSecrets, GeneratedSecretsArgs
from components.targets import TargetSettings, load_target


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
            "statefulIdentity": identity,
        }
        self.register_outputs(self.outputs)
