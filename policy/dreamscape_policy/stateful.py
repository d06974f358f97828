"""Rule 5: stateful Kubernetes resources are protected in prod.

StatefulSets and PersistentVolumeClaims hold the data of Postgres, Redis, Kafka and MinIO; in prod they
must carry the ``protect`` resource option so a stray ``pulumi destroy`` or replacement cannot drop them.
Review stacks are ephemeral and must stay destroyable, so they are not "prod" by default.
Docker volumes exist only on the dev stack and are out of scope.
"""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from . import stacks

PROTECTED_STATE_POLICY = "stateful-resources-protected-in-prod"
PROTECTED_TYPES = frozenset(
    {
        "kubernetes:apps/v1:StatefulSet",
        "kubernetes:core/v1:PersistentVolumeClaim",
    }
)


def validate_protected_state(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """StatefulSets and PVCs of prod stacks have `protect` set."""
    if args.resource_type not in PROTECTED_TYPES:
        return
    config = args.get_config()
    stack = stacks.current_stack(config)
    patterns = stacks.stack_patterns(config, stacks.PROD_STACKS_KEY, stacks.DEFAULT_PROD_STACKS)
    if not stacks.stack_matches(stack, patterns):
        return
    if args.opts.protect is not True:
        kind = args.resource_type.rsplit(":", 1)[-1]
        report_violation(
            f'{kind} "{args.name}" must be created with ResourceOptions(protect=True) on '
            f"{stacks.describe(stack)}.",
            None,
        )


def policies() -> list[ResourceValidationPolicy]:
    """The stateful-data policies of this module."""
    return [
        ResourceValidationPolicy(
            name=PROTECTED_STATE_POLICY,
            description="StatefulSets and PersistentVolumeClaims are protected (protect=True) in prod.",
            validate=validate_protected_state,
            enforcement_level=EnforcementLevel.MANDATORY,
            config_schema=PolicyConfigSchema(
                properties={
                    stacks.PROD_STACKS_KEY: stacks.schema_property(
                        stacks.DEFAULT_PROD_STACKS,
                        "Glob patterns of stacks whose stateful resources must be protected.",
                    ),
                    stacks.STACK_KEY: stacks.STACK_SCHEMA,
                },
            ),
        ),
    ]
