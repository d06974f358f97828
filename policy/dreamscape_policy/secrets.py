"""Rule 6: no plain-text secrets in pod specs, ConfigMaps or Docker container environments.

A name "looks secret" when one of its words (split on non-alphanumerics and camelCase) is a secret word
(PASSWORD, SECRET, TOKEN, KEY, CREDENTIALS, ...) and its last word is not a *reference* word such as FILE
or PATH: ``JWT_SECRET_FILE=/run/secrets/jwt`` points at a secret, it does not contain one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from .props import as_mapping, as_sequence, containers, has_key, pod_spec

NO_PLAINTEXT_SECRETS_POLICY = "no-plaintext-secrets"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
DOCKER_CONTAINER = "docker:index/container:Container"

SECRET_WORDS = frozenset(
    {
        "PASSWORD",
        "PASSWD",
        "PASSPHRASE",
        "SECRET",
        "SECRETS",
        "TOKEN",
        "KEY",
        "APIKEY",
        "ACCESSKEY",
        "SECRETKEY",
        "PRIVATEKEY",
        "CREDENTIAL",
        "CREDENTIALS",
        "CREDS",
    }
)
# A name ending in one of these refers to a secret (or describes it) without carrying its value.
REFERENCE_WORDS = frozenset(
    {"FILE", "PATH", "DIR", "NAME", "REF", "ID", "PREFIX", "URL", "ENDPOINT", "TTL", "EXPIRY", "HEADER"}
)
# Words that make an otherwise secret-looking name harmless (a public key is public).
HARMLESS_WORDS = frozenset({"PUBLIC"})

_CAMEL_LOWER_UPPER = re.compile(r"([a-z0-9])([A-Z])")
_CAMEL_ACRONYM = re.compile(r"([A-Z]+)([A-Z][a-z])")
_NON_ALNUM = re.compile(r"[^A-Za-z0-9]+")


def name_words(name: str) -> list[str]:
    """Upper-case words of `name`: ``jwtSecretFile`` and ``JWT_SECRET_FILE`` both give JWT SECRET FILE."""
    spaced = _CAMEL_ACRONYM.sub(r"\1_\2", _CAMEL_LOWER_UPPER.sub(r"\1_\2", name))
    return [word.upper() for word in _NON_ALNUM.split(spaced) if word]


def looks_secret(name: str) -> bool:
    """True if `name` names a secret value (not a file/path reference to one)."""
    words = name_words(name)
    if not words or words[-1] in REFERENCE_WORDS:
        return False
    if HARMLESS_WORDS.intersection(words):
        return False
    return bool(SECRET_WORDS.intersection(words))


def _check_env_entry(label: str, entry: Mapping[str, Any], report_violation: ReportViolation) -> None:
    name = entry.get("name")
    if not isinstance(name, str) or not looks_secret(name):
        return
    # Presence checks only: a literal value computed from a generated password is still unknown in
    # preview, and must be reported then rather than turning the policy into "can't run during preview".
    value_from = as_mapping(entry.get("valueFrom")) if has_key(entry, "valueFrom") else {}
    if has_key(value_from, "secretKeyRef"):
        return
    if has_key(entry, "value"):
        report_violation(
            f'{label} sets secret-looking env var "{name}" to a literal value; use '
            f"valueFrom.secretKeyRef or a {name}_FILE path to a mounted Secret.",
            None,
        )
    elif value_from:
        source = ", ".join(sorted(value_from.keys()))
        report_violation(
            f'{label} reads secret-looking env var "{name}" from {source}; only valueFrom.secretKeyRef '
            "may carry a secret.",
            None,
        )


def _validate_workload(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    spec = pod_spec(args.resource_type, args.props)
    if spec is None:
        return
    for container in containers(spec):
        for raw in as_sequence(container.spec.get("env")):
            _check_env_entry(container.label, as_mapping(raw), report_violation)


def _validate_config_map(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    for field in ("data", "binaryData"):
        for key in as_mapping(args.props.get(field)):
            if looks_secret(key):
                report_violation(
                    f'ConfigMap {field} key "{key}" looks like a secret; put it in a Secret instead.', None
                )


def _validate_docker_container(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    envs = as_sequence(args.props.get("envs")) if has_key(args.props, "envs") else ()
    for index in range(len(envs)):
        try:
            raw = envs[index]
        except UnknownValueError:
            continue  # computed in preview; checked again with the real value on `up`
        if not isinstance(raw, str) or "=" not in raw:
            continue  # "NAME" alone passes the variable through from the daemon's side, no literal value
        name = raw.split("=", 1)[0]
        if looks_secret(name):
            report_violation(
                f'container env "{name}" carries a literal secret value; mount the secret as a file and '
                f"pass {name}_FILE instead.",
                None,
            )


def validate_no_plaintext_secrets(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Secret-looking env vars and ConfigMap keys never hold literal values."""
    if args.resource_type == CONFIG_MAP:
        _validate_config_map(args, report_violation)
    elif args.resource_type == DOCKER_CONTAINER:
        _validate_docker_container(args, report_violation)
    else:
        _validate_workload(args, report_violation)


def policies() -> list[ResourceValidationPolicy]:
    """The secret-handling policies of this module."""
    return [
        ResourceValidationPolicy(
            name=NO_PLAINTEXT_SECRETS_POLICY,
            description=(
                "Secret-looking env vars come from a Secret (secretKeyRef) or a *_FILE path, and "
                "ConfigMaps hold no secret-looking keys."
            ),
            validate=validate_no_plaintext_secrets,
            enforcement_level=EnforcementLevel.MANDATORY,
        ),
    ]
