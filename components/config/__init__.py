"""Typed stack configuration: the pydantic model and its loader."""

from components.config.loader import ConfigError, load
from components.config.model import (
    DockerConfig,
    KafkaConfig,
    KubernetesConfig,
    MinioConfig,
    PostgresConfig,
    RedisConfig,
    ResourcesConfig,
    ReviewConfig,
    StackConfig,
    Target,
)

__all__ = [
    "ConfigError",
    "DockerConfig",
    "KafkaConfig",
    "KubernetesConfig",
    "MinioConfig",
    "PostgresConfig",
    "RedisConfig",
    "ResourcesConfig",
    "ReviewConfig",
    "StackConfig",
    "Target",
    "load",
]
