"""The Docker target. The only package (with its modules) that imports pulumi_docker."""

from components.targets.docker.platform import DockerPlatform, create

__all__ = ["DockerPlatform", "create"]
