"""Rule 6: no plain-text secrets in pod specs, ConfigMaps or Docker containers.

A name "looks secret" when one of its words (split on non-alphanumerics and camelCase) is a secret word
(PASSWORD, SECRET, TOKEN, KEY, CREDENTIALS, ...) and its last word is not a *reference* word such as FILE
or PATH: ``JWT_SECRET_FILE=/run/secrets/jwt`` points at a secret, it does not contain one.

Besides names, the rule reads values: a URL with a password (`postgres://app:hunter2@db/app`) in an env
value, a command argument or a ConfigMap; a secret-looking flag or assignment with a literal value in a
command (`--password hunter2`, `PGPASSWORD=hunter2 psql`); and a secret-looking key with a literal value
inside ConfigMap contents (`password: hunter2`, `admin_password = hunter2`, SQL `PASSWORD 'hunter2'`).
A value is a *reference*, not a secret, when it is empty or a placeholder the consumer resolves: `$VAR`,
`${VAR}`, `$(cat /run/secrets/x)`, `$__file{...}`, `{{ ... }}`, `%(...)s`, or a psql `:'variable'`.
"""

from __future__ import annotations

import re
import shlex
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
        "PGPASSWORD",
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
    {"FILE", "PATH", "DIR", "NAME", "REF", "ID", "PREFIX", "URL", "ENDPOINT", "TTL", "EXPIRY", "HEADER",
     "ENCRYPTION", "POLICY", "LENGTH"}
)
# Flags that carry a secret although no secret word is in their name (redis-server, redis-cli).
SECRET_FLAGS = frozenset({"requirepass", "masterauth", "pass"})
# Words that make an otherwise secret-looking name harmless (a public key is public).
HARMLESS_WORDS = frozenset({"PUBLIC"})

_CAMEL_LOWER_UPPER = re.compile(r"([a-z0-9])([A-Z])")
_CAMEL_ACRONYM = re.compile(r"([A-Z]+)([A-Z][a-z])")
_NON_ALNUM = re.compile(r"[^A-Za-z0-9]+")
_LETTERS_DIGITS = re.compile(r"(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])")


def name_words(name: str) -> list[str]:
    """Upper-case words of `name`: ``jwtSecretFile`` and ``JWT_SECRET_FILE`` both give JWT SECRET FILE;
    digits are words of their own, so ``DB_PASSWORD2`` gives DB PASSWORD 2."""
    spaced = _CAMEL_ACRONYM.sub(r"\1_\2", _CAMEL_LOWER_UPPER.sub(r"\1_\2", name))
    spaced = _LETTERS_DIGITS.sub("_", spaced)
    return [word.upper() for word in _NON_ALNUM.split(spaced) if word]


def looks_secret(name: str) -> bool:
    """True if `name` names a secret value (not a file/path reference to one). A trailing number
    (`DB_PASSWORD2`, `API_KEY_2`) numbers a value; it does not make it a reference."""
    words = [word for word in name_words(name) if not word.isdigit()]
    if not words or words[-1] in REFERENCE_WORDS:
        return False
    if HARMLESS_WORDS.intersection(words):
        return False
    return bool(SECRET_WORDS.intersection(words))


# The userinfo may hold any character but '/', '@' and whitespace, quotes included (`p'w"d`): a quote
# inside a password must not hide the URL from the rule.
_URL_CREDENTIALS = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s/@:]*:([^\s/@]+)@")
_ASSIGNMENT = re.compile(
    r"""(?im)^[ \t]*(?:-[ \t]+)?["']?([A-Za-z_][A-Za-z0-9_.-]*)["']?[ \t]*[:=][ \t]*(.*?)[ \t]*[;,]?[ \t]*$"""
)
_SQL_PASSWORD = re.compile(r"(?i)\bPASSWORD\s+(E?'[^']*')")
_PLACEHOLDER = re.compile(r"""^["']?(\$|\{\{|%\(|<[A-Za-z_-]+>$|:['"]?[A-Za-z_])""")
_NOT_SECRET_VALUES = frozenset({"", "''", '""', "true", "false", "null", "~", "none", "[]", "{}"})


def is_literal(value: str) -> bool:
    """True if `value` holds data itself rather than pointing at a secret the consumer resolves."""
    text = value.strip()
    return text.lower() not in _NOT_SECRET_VALUES and not _PLACEHOLDER.match(text)


def url_with_password(text: str) -> bool:
    """True if `text` contains a URL whose userinfo carries a literal password."""
    return any(is_literal(match.group(1)) for match in _URL_CREDENTIALS.finditer(text))


def secret_arguments(args: list[str]) -> list[str]:
    """Names of secret-looking flags or assignments given literal values in a command line (shell
    scripts passed to `sh -c` included), and a marker for URLs with passwords."""
    found: list[str] = []
    if any(url_with_password(arg) for arg in args):
        found.append("a URL with a password")
    # argv items and the words of scripts inside them, in order, so `--flag value` pairs span items.
    tokens = [token for arg in args for token in (_tokens(arg) if any(c.isspace() for c in arg) else [arg])]
    for index, token in enumerate(tokens):
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        name, value = _flag_or_assignment(token, following)
        if name is None or value is None:
            continue
        if (looks_secret(name) or name.lower() in SECRET_FLAGS) and is_literal(value):
            found.append(name)
    return found


def _tokens(text: str) -> list[str]:
    try:
        return shlex.split(text, posix=True)
    except ValueError:
        return text.split()


def _flag_or_assignment(token: str, following: str | None) -> tuple[str | None, str | None]:
    if token.startswith("-"):
        flag = token.lstrip("-")
        if "=" in flag:
            name, _, value = flag.partition("=")
            return name, value
        if following is not None and not following.startswith("-"):
            return flag, following
        return None, None
    if "=" in token:
        name, _, value = token.partition("=")
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", name):
            return name, value
    return None, None


def secret_contents(text: str) -> list[str]:
    """What in a config file's text carries a literal secret: secret-looking keys with literal values
    (YAML, INI, properties, env files), SQL `PASSWORD '...'` literals and URLs with passwords."""
    found = [key for key, value in _ASSIGNMENT.findall(text) if looks_secret(key) and is_literal(value)]
    if _SQL_PASSWORD.search(text):
        found.append("a SQL PASSWORD literal")
    if url_with_password(text):
        found.append("a URL with a password")
    return found


def _check_command(label: str, spec: Mapping[str, Any], fields: tuple[str, ...],
                   report_violation: ReportViolation) -> None:
    try:
        args = [item for field in fields for item in as_sequence(spec.get(field)) if isinstance(item, str)]
    except UnknownValueError:
        return  # computed in preview; checked again with the real values on `up`
    for what in dict.fromkeys(secret_arguments(args)):
        report_violation(
            f"{label} passes {what if ' ' in what else repr(what)} with a literal secret on its command line; "
            "read it from a mounted secret file instead (e.g. \"$(cat /run/secrets/...)\" or a *_FILE option).",
            None,
        )


def _check_env_entry(label: str, entry: Mapping[str, Any], report_violation: ReportViolation) -> None:
    name = entry.get("name")
    try:
        value = entry.get("value") if has_key(entry, "value") else None
    except UnknownValueError:
        value = None  # computed in preview; the presence check below still applies
    if isinstance(name, str) and isinstance(value, str) and url_with_password(value):
        report_violation(
            f'{label} sets env var "{name}" to a URL with a password; keep the password in a Secret.', None
        )
        return
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
        _check_command(container.label, container.spec, ("command", "args"), report_violation)


def _validate_config_map(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    for field in ("data", "binaryData"):
        for key in as_mapping(args.props.get(field)):
            if looks_secret(key):
                report_violation(
                    f'ConfigMap {field} key "{key}" looks like a secret; put it in a Secret instead.', None
                )
    data = as_mapping(args.props.get("data"))
    for key in data:
        try:
            raw = data[key]
        except UnknownValueError:
            continue  # computed in preview; checked again with the real value on `up`
        if not isinstance(raw, str):
            continue
        for what in dict.fromkeys(secret_contents(raw)):
            shown = what if " " in what else f'"{what}"'
            report_violation(
                f'ConfigMap data "{key}" holds {shown} with a literal secret value; put it in a Secret and '
                "reference the mounted file.",
                None,
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
        name, value = raw.split("=", 1)
        if url_with_password(value):
            report_violation(f'container env "{name}" holds a URL with a password; keep it in a secret file.', None)
        elif looks_secret(name):
            report_violation(
                f'container env "{name}" carries a literal secret value; mount the secret as a file and '
                f"pass {name}_FILE instead.",
                None,
            )


def validate_no_plaintext_secrets(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Secret-looking env vars, command arguments, URLs and ConfigMap contents never hold literal values."""
    if args.resource_type == CONFIG_MAP:
        _validate_config_map(args, report_violation)
    elif args.resource_type == DOCKER_CONTAINER:
        _validate_docker_container(args, report_violation)
        _check_command("container", args.props, ("command", "entrypoints"), report_violation)
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
