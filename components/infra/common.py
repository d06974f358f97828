"""Small helpers the infra components share."""

from __future__ import annotations

from components import spec
from components.config import ResourcesConfig
from components.config.quantities import jvm_heap_bytes


def resources_of(config: ResourcesConfig) -> spec.Resources:
    return spec.Resources(
        cpu_request=config.cpu,
        cpu_limit=config.cpu_limit,
        memory_request=config.memory,
        memory_limit=config.memory_limit,
    )


def jvm_heap_mib(config: ResourcesConfig) -> int:
    """A JVM heap that leaves room for page cache and off-heap memory inside the limit."""
    return jvm_heap_bytes(config.memory_limit) // 2**20
