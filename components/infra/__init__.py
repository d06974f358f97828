"""Infrastructure services, one ComponentResource each."""

from components.infra.kafka import Kafka, KafkaArgs
from components.infra.minio import Minio, MinioArgs
from components.infra.postgres import Postgres, PostgresArgs
from components.infra.redis import Redis, RedisArgs

__all__ = ["Kafka", "KafkaArgs", "Minio", "MinioArgs", "Postgres", "PostgresArgs", "Redis", "RedisArgs"]
