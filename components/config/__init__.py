"""Typed stack configuration: the pydantic model and its loader."""

from components.config.loader import ConfigError, load
from components.config.model import (
    BackupConfig,
    CapacityConfig,
    DevToolsConfig,
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
    "BackupConfig",
    "CapacityConfig",
    "ConfigError",
    "DevToolsConfig",
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
