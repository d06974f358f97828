"""Rule 4: prod and review stacks run pinned images (no ``latest``, no missing tag).

A reference pinned by digest (``...@sha256:<hex>``, or a bare image ID ``sha256:<hex>`` as the Docker
provider reports it) is always accepted. Dev stacks may use any tag.
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
from .props import containers, pod_spec

PINNED_IMAGES_POLICY = "images-pinned-in-prod-and-review"
DOCKER_CONTAINER = "docker:index/container:Container"


def image_problem(image: object) -> str | None:
    """Why `image` is not pinned, or None when it is (has a digest, or a tag other than latest)."""
    if not isinstance(image, str) or not image.strip():
        return "has no image"
    reference = image.strip()
    if "@sha256:" in reference or reference.startswith("sha256:"):
        return None
    last_segment = reference.rsplit("/", 1)[-1]
    if ":" not in last_segment:
        return f'uses image "{reference}" without a tag (implicitly latest)'
    tag = last_segment.rsplit(":", 1)[1]
    if not tag:
        return f'uses image "{reference}" with an empty tag'
    if tag == "latest":
        return f'uses image "{reference}" with the mutable tag latest'
    return None


def validate_pinned_images(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Containers of prod-like stacks name a fixed tag or a digest."""
    config = args.get_config()
    stack = stacks.current_stack(config)
    patterns = stacks.stack_patterns(
        config, stacks.PINNED_IMAGE_STACKS_KEY, stacks.DEFAULT_PINNED_IMAGE_STACKS
    )
    if not stacks.stack_matches(stack, patterns):
        return
    where = stacks.describe(stack)
    if args.resource_type == DOCKER_CONTAINER:
        problem = image_problem(args.props.get("image"))
        if problem:
            report_violation(f"container {problem}; pin a version tag or digest on {where}.", None)
        return
    spec = pod_spec(args.resource_type, args.props)
    if spec is None:
        return
    for container in containers(spec):
        problem = image_problem(container.spec.get("image"))
        if problem:
            report_violation(f"{container.label} {problem}; pin a version tag or digest on {where}.", None)


def policies() -> list[ResourceValidationPolicy]:
    """The image policies of this module."""
    return [
        ResourceValidationPolicy(
            name=PINNED_IMAGES_POLICY,
            description=(
                "Prod and review stacks run images pinned by a version tag or digest, never latest "
                "or an untagged image."
            ),
            validate=validate_pinned_images,
            enforcement_level=EnforcementLevel.MANDATORY,
            config_schema=PolicyConfigSchema(
                properties={
                    stacks.PINNED_IMAGE_STACKS_KEY: stacks.schema_property(
                        stacks.DEFAULT_PINNED_IMAGE_STACKS,
                        "Glob patterns of stacks that must not use latest/untagged images.",
                    ),
                    stacks.STACK_KEY: stacks.STACK_SCHEMA,
                },
            ),
        ),
    ]
