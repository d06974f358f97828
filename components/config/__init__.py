"""Typed stack configuration: the pydantic model and its loader."""

from components.config.loader import ConfigError, load
from components.config.model import (
    DockerConfig,
    EdgeConfig,
    KafkaConfig,
    KubernetesConfig,
    MinioConfig,
    PodConfig,
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
    "EdgeConfig",
    "KafkaConfig",
    "KubernetesConfig",
    "MinioConfig",
    "PodConfig",
    "PostgresConfig",
    "RedisConfig",
    "ResourcesConfig",
    "ReviewConfig",
    "StackConfig",
    "Target",
    "load",
]
