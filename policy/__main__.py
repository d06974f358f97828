"""Entry point the Pulumi CLI runs for `--policy-pack policy`: build the pack from the rule modules."""

from dreamscape_policy import PACK_NAME, all_policies
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    name=PACK_NAME,
    policies=all_policies(),
    enforcement_level=EnforcementLevel.MANDATORY,
    description="DreamScape Big Pods: secure-by-default guard rails for every stack.",
)
