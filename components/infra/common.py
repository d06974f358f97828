"""Small helpers the infra components share."""

from __future__ import annotations

from components import spec
from components.config import ResourcesConfig
from components.config.quantities import memory_bytes


def resources_of(config: ResourcesConfig) -> spec.Resources:
    return spec.Resources(
        cpu_request=config.cpu,
        cpu_limit=config.cpu_limit,
        memory_request=config.memory,
        memory_limit=config.memory_limit,
    )


def jvm_heap_mib(config: ResourcesConfig, share: float = 0.5) -> int:
    """A JVM heap that leaves room for page cache and off-heap memory inside the limit."""
    return max(128, int(memory_bytes(config.memory_limit) * share) // 2**20)
