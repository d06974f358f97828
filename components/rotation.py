"""Rotation reaches every consumer: each service's pods carry the generation of every secret they use.

Bumping a generation in `secretRotation` replaces one generator. Its new value lands in the Secret (or the
Docker container's files), but a Kubernetes pod does not restart when a mounted Secret changes, and a
server that read its password at start keeps the old one. So every service that consumes a generated
secret carries a pod-template annotation `dreamscape.io/secret-generations` (`redis=1,postgresApp=0`):
a bump changes exactly the templates of its consumers, and they roll.

What a service consumes is derived from its spec, not from a hand-kept list: a generated secret is
consumed when its value appears in the service's secret files, secret env, config files or env (URLs,
mc config files, rendered configs). Generated values are random and alphanumeric, so an accidental match is
impossible in practice. The annotation names secrets and numbers only; it is not secret itself.
A value the program transforms before delivery (Prometheus' MinIO bearer token, a JWT signed with the
MinIO root key) is not matched: its file changes on rotation and Prometheus re-reads it on every scrape.
On Docker the same value is a container label; a changed label replaces the container.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import pulumi

from components.spec import Container, Service, frozen_map

ANNOTATION = "dreamscape.io/secret-generations"


def _material(container: Container) -> list[str | pulumi.Output[str]]:
    """Everything in a container's description that may carry a secret value."""
    return [
        *(f.value for f in container.secret_files),
        *container.secret_env.values(),
        *(f.content for f in container.config_files),
        *container.env.values(),
    ]


def consumes_secrets(container: Container) -> bool:
    return bool(container.secret_files or container.secret_env or any(f.secret for f in container.config_files))


def generations(values: Mapping[str, str], material: list[str], rotation: Mapping[str, int]) -> str:
    """`name=generation` for every secret whose (non-empty) value occurs in the material, sorted by name."""
    text = "\n".join(material)
    return ",".join(f"{name}={rotation.get(name, 0)}" for name in sorted(values)
                    if values[name] and values[name] in text)


def consumed_generations(container: Container, secrets: Mapping[str, pulumi.Output[str]],
                         rotation: Mapping[str, int]) -> pulumi.Output[str]:
    names = sorted(secrets)
    material = _material(container)

    def pick(resolved: list[str]) -> str:
        return generations(dict(zip(names, resolved[:len(names)], strict=True)),
                           [str(m) for m in resolved[len(names):]], rotation)

    found: pulumi.Output[str] = pulumi.Output.all(*(secrets[n] for n in names), *material).apply(pick)
    # Names and numbers only: the matching read secrets, the result reveals none.
    return pulumi.Output.unsecret(found)


def annotate(service: Service, secrets: Mapping[str, pulumi.Output[str]], rotation: Mapping[str, int]) -> Service:
    """The service with its rotation annotation, when it consumes any secret at all."""
    if not consumes_secrets(service.container):
        return service
    annotations = {**service.annotations, ANNOTATION: consumed_generations(service.container, secrets, rotation)}
    return replace(service, annotations=frozen_map(annotations))
