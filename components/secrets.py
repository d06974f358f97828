"""Generated secrets: one pulumi-random password per kind, stable until rotated on purpose.

A password changes only when its `keepers` change, and the only keeper is the generation number in
`secretRotation`. So `pulumi up` never rotates anything by accident, and bumping one number rotates
exactly one secret.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_random as random

from components.secret_catalog import SECRET_KINDS


@dataclass(frozen=True)
class GeneratedSecretsArgs:
    rotation: Mapping[str, int] = field(default_factory=dict)
    protect: bool = False
    """Prod protects the generators: losing one would orphan the data it guards."""


class PendingSecrets(Mapping[str, pulumi.Output[str]]):
    """Every generated secret as a secret output that is bound later, when the generators are registered.

    Blueprints (and the checks derived from them) are built before anything is registered; they hold
    these outputs, which resolve once `bind` hands over the generated values."""

    def __init__(self) -> None:
        self._outputs: dict[str, pulumi.Output[str]] = {}
        self._resolvers: dict[str, Callable[[pulumi.Output[str]], None]] = {}
        for kind in SECRET_KINDS:
            output: pulumi.Output[str]
            resolve: Callable[[pulumi.Output[str]], None]
            output, resolve = pulumi.deferred_output()
            self._outputs[kind.name] = pulumi.Output.secret(output)
            self._resolvers[kind.name] = resolve

    def __getitem__(self, name: str) -> pulumi.Output[str]:
        return self._outputs[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._outputs)

    def __len__(self) -> int:
        return len(self._outputs)

    def bind(self, generated: Mapping[str, pulumi.Output[str]]) -> None:
        for name, resolve in self._resolvers.items():
            resolve(generated[name])

    def abandon(self) -> None:
        """The run stopped before the generators were registered: settle every output built on these
        values (with an empty secret) so the engine has nothing left to wait for."""
        self.bind(dict.fromkeys(self._resolvers, pulumi.Output.secret("")))


class GeneratedSecrets(pulumi.ComponentResource):
    """Every password, key and token of one environment, as Pulumi secrets."""

    values: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: GeneratedSecretsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("dreamscape:platform:GeneratedSecrets", name, None, opts)
        self.values = {}
        for kind in SECRET_KINDS:
            password = random.RandomPassword(
                f"{name}-{kind.name}",
                length=kind.length,
                # Alphanumeric only: values land in URLs, INI and shell-free config files unescaped.
                special=False,
                min_lower=4,
                min_upper=4,
                min_numeric=4,
                keepers={"generation": str(args.rotation.get(kind.name, 0))},
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
            )
            self.values[kind.name] = pulumi.Output.secret(password.result)
        self.register_outputs({"names": sorted(self.values)})

    def __getitem__(self, name: str) -> pulumi.Output[str]:
        return self.values[name]
