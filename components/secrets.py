"""Generated secrets: one pulumi-random password per kind, stable until rotated on purpose.

A password changes only when its `keepers` change, and the only keeper is the generation number in
`secretRotation`. So `pulumi up` never rotates anything by accident, and bumping one number rotates
exactly one secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_random as random

from components.secret_catalog import SECRET_KINDS


@dataclass(frozen=True)
class GeneratedSecretsArgs:
    rotation: Mapping[str, int] = field(default_factory=dict)
    protect: bool = False
    """Prod protects the generators: losing one would orphan the data it guards."""


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
