"""The Kubernetes target. The only package (with its modules) that imports pulumi_kubernetes."""

from components.targets.kubernetes.platform import KubernetesPlatform, create

__all__ = ["KubernetesPlatform", "create"]
