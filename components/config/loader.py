"""Load the stack configuration, or stop the run with one readable message.

Layers, lowest first:
1. project defaults declared in Pulumi.yaml (the single source of defaults);
2. a shared profile for families of stacks without a stack file (`review-*` -> profiles/review.yaml);
3. what the stack sets. The Pulumi CLI hands the program project defaults and stack values in one bag,
   so the loader reads the stack file (`Pulumi.<stack>.yaml`, which the review tool also writes for the
   duration of its run) to learn which keys the stack sets: a key the stack file names wins even when its
   value equals the project default. A bag value that differs from the project default but that no
   stack file names came from `--config` on the command line; it wins too.
Object-valued keys are merged key by key, so a stack file holds only what differs.

The stack name is checked here too: it becomes a Kubernetes namespace and part of public hostnames, and
a stack the project does not know (no stack file, not `review-<id>`) is refused rather than silently
given the production defaults.

This is the only module that reads Pulumi configuration.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pydantic import ValidationError

from components.config.cluster import cluster_problems
from components.config.model import StackConfig, StackKind, Target

PROJECT = "dreamscape"
ROOT = Path(__file__).resolve().parents[2]
STACK_DIR = ROOT
"""Where `Pulumi.<stack>.yaml` lives: the project directory (Pulumi.yaml sets no `stackConfigDir`)."""
STACK_FILE_EXTENSIONS = (".yaml", ".yml", ".json")
REVIEW_PREFIX = "review-"
PROFILES = {REVIEW_PREFIX: ROOT / "profiles" / "review.yaml"}

# Kubernetes namespace names are RFC 1123 DNS labels: at most 63 characters of [a-z0-9-], starting and
# ending alphanumeric (apimachinery validation.IsDNS1123Label, enforced by the API server).
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS_LABEL_MAX = 63
# A DNS name is at most 253 characters in its text form (RFC 1035 section 2.3.4; Kubernetes
# IsDNS1123Subdomain and the Ingress host field use the same bound).
DNS_NAME_MAX = 253
NAMESPACE_PREFIX = "dreamscape-"
NAMESPACE_SUFFIXES = ("-node-agents",)
"""Namespaces the Kubernetes target derives from the environment's namespace (the node agents' one)."""
SITE_SUBDOMAINS = ("app", "api", "grafana")
"""The public hosts the edge serves under the site domain (components/environment.py)."""
MAX_STACK_NAME = DNS_LABEL_MAX - len(NAMESPACE_PREFIX) - max(len(s) for s in NAMESPACE_SUFFIXES)
"""40: `dreamscape-<stack>-node-agents` must still be a DNS label."""


class ConfigError(pulumi.RunError):
    """Raised before any resource is registered; Pulumi prints the message without a traceback."""


@cache
def project_defaults(project_file: Path = ROOT / "Pulumi.yaml") -> Mapping[str, Any]:
    """The `config:` defaults of Pulumi.yaml, as plain values keyed without the project prefix."""
    declared = yaml.safe_load(project_file.read_text()).get("config", {})
    defaults: dict[str, Any] = {}
    for key, spec in declared.items():
        name = key.removeprefix(f"{PROJECT}:")
        if isinstance(spec, dict) and "value" in spec:
            defaults[name] = spec["value"]
        elif isinstance(spec, dict) and "default" in spec:
            defaults[name] = spec["default"]
        elif not isinstance(spec, dict):
            defaults[name] = spec
    return defaults


def profile_for(stack: str) -> Mapping[str, Any]:
    for prefix, path in PROFILES.items():
        if stack.startswith(prefix):
            loaded = yaml.safe_load(path.read_text()) or {}
            return dict(loaded.get("config", {}))
    return {}


def stack_file(stack: str) -> Path | None:
    """The stack's own config file, if it has one."""
    for extension in STACK_FILE_EXTENSIONS:
        path = STACK_DIR / f"Pulumi.{stack}{extension}"
        if path.is_file():
            return path
    return None


def stack_file_values(stack: str) -> dict[str, Any]:
    """What the stack file sets in our namespace, as written (secrets stay `{secure: ...}` markers).

    Only the *shape* is used: it says which keys and nested fields the stack sets; the values themselves
    come from the engine's bag, where secrets are already decrypted.
    """
    path = stack_file(stack)
    if path is None:
        return {}
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f"Cannot read {path.name}: {error}. Nothing was changed.") from None
    values: dict[str, Any] = {}
    config = document.get("config") if isinstance(document, dict) else None
    for key, value in (config or {}).items():
        namespace, _, name = str(key).rpartition(":")
        if namespace in ("", PROJECT):
            values[name] = value
    return values


def stack_values(raw: Mapping[str, str]) -> dict[str, Any]:
    """Our namespace's values from the engine's config bag. Objects and arrays arrive as JSON."""
    values: dict[str, Any] = {}
    for key, text in raw.items():
        namespace, _, name = key.partition(":")
        if namespace != PROJECT:
            continue
        values[name] = _decode(text)
    return values


def _decode(text: str) -> Any:
    if isinstance(text, str) and text[:1] in "{[":
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    return text


def _differs(value: Any, default: Any) -> Any:
    """The parts of a bag value that differ from the project default (None when nothing differs).

    Used only for keys no stack file names: such a value is the project default unless `--config`
    changed it, so the parts equal to the default carry no information.
    """
    if isinstance(value, dict) and isinstance(default, dict):
        # An explicit `null` the default does not have (`pods: {core: null}`) is kept, so validation
        # refuses it instead of the merge silently dropping the setting.
        diff = {k: d for k, v in value.items()
                if (d := _differs(v, default.get(k))) is not None
                or (v is None and (k not in default or default[k] is not None))}
        return diff or None
    return None if _same(value, default) else value


def _same(value: Any, default: Any) -> bool:
    if value == default:
        return True
    # The engine passes primitives as strings ("3", "true").
    return isinstance(value, str) and not isinstance(default, (dict, list)) and value == _as_text(default)


def _as_text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) else str(value)


def _set_by_stack(value: Any, shape: Any) -> Any:
    """The parts of a bag value at the paths the stack file sets (`shape`); a `{secure: ...}` marker or a
    scalar in the file selects the whole bag value at that path."""
    if isinstance(value, dict) and isinstance(shape, dict) and set(shape) != {"secure"}:
        return {k: _set_by_stack(value[k], v) for k, v in shape.items() if k in value}
    return value


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge mappings; lists and scalars in `override` replace those in `base`."""
    merged = dict(base)
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = merge(current, value)
        else:
            merged[key] = value
    return merged


def explicit_values(stack: str, raw: Mapping[str, str]) -> dict[str, Any]:
    """What the stack itself sets: every key its stack file names, plus bag values that differ from the
    project defaults (set with `--config`)."""
    defaults = project_defaults()
    named = stack_file_values(stack)
    explicit: dict[str, Any] = {}
    for key, value in stack_values(raw).items():
        diff = _differs(value, defaults.get(key))
        if key in named:
            by_stack = _set_by_stack(value, named[key])
            both = isinstance(by_stack, dict) and isinstance(diff, dict)
            explicit[key] = merge(by_stack, diff) if both else by_stack
        elif diff is not None:
            explicit[key] = diff
    return explicit


def effective_values(stack: str, raw: Mapping[str, str]) -> dict[str, Any]:
    return merge(merge(project_defaults(), profile_for(stack)), explicit_values(stack, raw))


def file_values(stack: str) -> dict[str, Any]:
    """The stack's values from the files alone (Pulumi.yaml, the profile, Pulumi.<stack>.yaml), for tools
    that run outside the Pulumi engine. Secrets stay `{secure: ...}` markers: read only plain keys."""
    return merge(merge(project_defaults(), profile_for(stack)), stack_file_values(stack))


def stack_name_problems(stack: str) -> list[str]:
    """Why `stack` cannot be deployed, if it cannot: it names a namespace and (review) public hosts."""
    problems = []
    if not DNS_LABEL.fullmatch(stack) or len(stack) > MAX_STACK_NAME:
        problems.append(
            f"the stack name must be lowercase letters, digits and '-', start and end with a letter or "
            f"digit, and be at most {MAX_STACK_NAME} characters, because it names the Kubernetes namespace "
            f"'{NAMESPACE_PREFIX}<stack>{NAMESPACE_SUFFIXES[0]}' (an RFC 1123 label of at most "
            f"{DNS_LABEL_MAX} characters); got {stack!r}"
        )
    if stack.startswith(REVIEW_PREFIX):
        review_id = stack.removeprefix(REVIEW_PREFIX)
        if not DNS_LABEL.fullmatch(review_id) or len(review_id) > DNS_LABEL_MAX:
            problems.append(
                f"a review stack is 'review-<id>' with <id> a DNS label (it becomes the host "
                f"'app.<id>.<domain>'); got {stack!r}"
            )
    elif stack_file(stack) is None:
        problems.append(
            f"unknown stack {stack!r}: it has no Pulumi.{stack}.yaml and is not a 'review-<id>' stack. "
            f"Create the stack file (it picks the target and what differs from the production defaults) "
            "instead of running with the project defaults, which own cluster-wide settings such as Traefik"
        )
    return problems


def stack_problems(stack: str, config: StackConfig) -> list[str]:
    """Checks that need both the stack name and its validated config."""
    problems = []
    is_review = stack.startswith(REVIEW_PREFIX)
    if config.review is not None and not is_review:
        problems.append(
            f"{PROJECT}:review: the review block belongs to 'review-<id>' stacks only (set by "
            f"`python -m tools.review up`); remove it from stack {stack!r}"
        )
    if config.seed_data and (config.protect_data or stack == "prod"):
        problems.append(
            f"{PROJECT}:seedData: seed data and test accounts (known passwords) are for dev and review stacks; "
            f"stack {stack!r} {'is prod' if stack == 'prod' else 'protects its data (protectData: true)'}"
        )
    if stack == "prod" and config.backup.offsite is None:
        # Volumes are node-local (local-path) and so is the in-cluster MinIO: one lost disk can take the
        # database and its dumps together. Production keeps its WAL archive and base backups off the cluster.
        problems.append(
            f"{PROJECT}:backup.offsite: prod needs an off-site object store (endpoint, bucket, region, and the "
            "credentials as secret config): its volumes and the in-cluster MinIO are node-local, so one lost "
            "disk would take the database and its backups together"
        )
    alerting = config.alerting
    # Only an environment runs Alertmanager (a cluster stack provisions nodes, not monitoring).
    delivers_alerts = config.kind is StackKind.ENVIRONMENT
    if (delivers_alerts and (config.protect_data or stack == "prod") and not alerting.receivers
            and alerting.without_receivers is None):
        problems.append(
            f"{PROJECT}:alerting: stack {stack!r} "
            f"{'is prod' if stack == 'prod' else 'protects its data (protectData: true)'} and sets no alert "
            "receiver, so every alert would go nowhere. Set one as secret config (`pulumi config set --secret "
            "--path alerting.slackWebhook https://hooks.slack.com/...`, or alerting.pagerdutyRoutingKey, or "
            "alerting.email), or opt out with the reason: `pulumi config set --path alerting.withoutReceivers "
            "'<why>'` (docs/monitoring.md, Routing)"
        )
    if config.target is Target.KUBERNETES:
        namespace = config.kubernetes.namespace_for(stack)
        problems.extend(namespace_ownership_problems(stack, namespace))
        kubeconfig = config.kubernetes.kubeconfig_path
        # A path that does not exist fails at the first API call, after the preview looked fine.
        if kubeconfig is not None and not (ROOT / kubeconfig).is_file():
            problems.append(f"{PROJECT}:kubernetes.kubeconfig: {str(kubeconfig)!r} is neither kubeconfig contents "
                            "nor an existing file (relative paths are relative to this repository)")
        for suffix in NAMESPACE_SUFFIXES:
            derived = namespace + suffix
            if len(derived) > DNS_LABEL_MAX:
                problems.append(
                    f"{PROJECT}:kubernetes.namespace: {namespace!r} plus the derived suffix {suffix!r} is "
                    f"{len(derived)} characters; a Kubernetes namespace is at most {DNS_LABEL_MAX} "
                    f"(RFC 1123 label), so the namespace may have at most {DNS_LABEL_MAX - len(suffix)}"
                )
    problems.extend(kind_problems(config))
    site = f"{stack.removeprefix(REVIEW_PREFIX)}.{config.domain}" if is_review else config.domain
    longest = max((f"{sub}.{site}" for sub in SITE_SUBDOMAINS), key=len)
    if len(longest) > DNS_NAME_MAX:
        problems.append(
            f"{PROJECT}:domain: the host {longest[:40]}... is {len(longest)} characters; a DNS name (and an "
            f"Ingress host) is at most {DNS_NAME_MAX}"
        )
    return problems


SYSTEM_NAMESPACES = frozenset({"default"})
SYSTEM_NAMESPACE_PREFIX = "kube-"
"""`default` and `kube-*` (kube-system, kube-public, kube-node-lease) belong to the cluster itself."""


def other_stacks_namespaces(stack: str) -> dict[str, str]:
    """The namespace of every other stack that has a stack file: the one it names, else its default."""
    found = {}
    for path in sorted(STACK_DIR.glob("Pulumi.*.*")):
        other = path.name.removeprefix("Pulumi.").rpartition(".")[0]
        if other in ("", stack) or path.suffix not in STACK_FILE_EXTENSIONS:
            continue
        try:
            document = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError):
            document = {}
        config = document.get("config") if isinstance(document, dict) else None
        kubernetes = config.get(f"{PROJECT}:kubernetes") if isinstance(config, dict) else None
        namespace = kubernetes.get("namespace") if isinstance(kubernetes, dict) else None
        found[other] = namespace if isinstance(namespace, str) else f"{NAMESPACE_PREFIX}{other}"
    return found


def namespace_ownership_problems(stack: str, namespace: str) -> list[str]:
    """A stack labels its namespace, applies default-deny NetworkPolicies and a quota to it, and deletes it
    on destroy: it must be a namespace no one else owns. Not the cluster's own (`default`, `kube-*`), not
    another stack's (the namespace another stack file names, or its `dreamscape-<stack>`), and not a review
    stack's (`dreamscape-review-*`): a review stack could otherwise lock down prod's namespace."""
    key = f"{PROJECT}:kubernetes.namespace"
    own = f"{NAMESPACE_PREFIX}{stack}"
    if namespace in SYSTEM_NAMESPACES or namespace.startswith(SYSTEM_NAMESPACE_PREFIX):
        return [f"{key}: {namespace!r} belongs to the cluster itself (default, kube-*); the stack would label, "
                f"lock down and, on destroy, delete it. Leave it unset for {own!r}"]
    owners = sorted(other for other, theirs in other_stacks_namespaces(stack).items()
                    if namespace in (theirs, *(theirs + suffix for suffix in NAMESPACE_SUFFIXES)))
    review_namespace = f"{NAMESPACE_PREFIX}{REVIEW_PREFIX}"
    if not owners and namespace.startswith(review_namespace) and namespace != own:
        owners = [namespace.removeprefix(NAMESPACE_PREFIX)]
    if owners:
        return [f"{key}: {namespace!r} is the namespace of stack {owners[0]!r}, not of {stack!r}; every stack "
                f"keeps to its own (leave it unset for {own!r})"]
    return []


PLAIN_SECRET_FIELDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "alerting": (("slackWebhook",), ("pagerdutyRoutingKey",), ("email", "password")),
    "registryAuth": (("password",),),
}
"""Credentials in other top-level keys: each must come from secret config (`--secret`)."""


def kind_problems(config: StackConfig) -> list[str]:
    """A cluster stack describes its cluster and where its etcd snapshots go; an environment stack never
    describes a cluster (it reads one through `kubernetes.clusterStack`)."""
    if config.kind is StackKind.ENVIRONMENT:
        ssh = config.cluster_ssh
        described = [name for name, present in (("cluster", config.cluster is not None),
                                                ("clusterSsh", ssh.private_key is not None or ssh.host_private_keys))
                     if present]
        return [f"{PROJECT}:{name}: only cluster stacks (kind: cluster) provision a cluster; an environment "
                f"stack reads one with kubernetes.clusterStack" for name in described]
    if config.cluster is None:
        return [f"{PROJECT}:cluster: a cluster stack (kind: cluster) needs its hosts, api endpoint, k3s "
                f"release and etcd snapshot settings (docs/cluster.md)"]
    problems = cluster_problems(config.cluster, config.cluster_ssh, f"{PROJECT}:cluster", f"{PROJECT}:clusterSsh")
    if config.backup.offsite is None:
        problems.append(f"{PROJECT}:backup.offsite: a cluster stack ships its etcd snapshots off-site (k3s "
                        f"--etcd-s3); set the bucket's endpoint, bucket, region and credentials")
    return problems


def secret_problems(values: Mapping[str, Any], secret_keys: frozenset[str]) -> list[str]:
    """Service secrets must come from secret config: a plain value would sit unencrypted in the stack file."""
    problems = []
    services = values.get("services")
    if "services" not in secret_keys and isinstance(services, dict):
        for name, service in sorted(services.items()):
            if isinstance(service, dict) and service.get("secrets"):
                problems.append(
                    f"{PROJECT}:services.{name}.secrets: set with `pulumi config set --secret --path "
                    f"services.{name}.secrets.<NAME> <value>`; plain config would be stored unencrypted"
                )
    for key, paths in PLAIN_SECRET_FIELDS.items():
        value = values.get(key)
        if key in secret_keys or not isinstance(value, dict):
            continue
        for path in paths:
            leaf: Any = value
            for part in path:
                leaf = leaf.get(part) if isinstance(leaf, dict) else None
            if leaf is not None:
                dotted = ".".join(path)
                problems.append(
                    f"{PROJECT}:{key}.{dotted}: a credential; set it with `pulumi config set --secret --path "
                    f"{key}.{dotted} <value>`, plain config would be stored unencrypted in the stack file"
                )
    return problems


def texts(value: Any) -> Iterator[str]:
    """Every text leaf of a config value (keys excluded), numbers and booleans as the engine passes them."""
    if isinstance(value, dict):
        for child in value.values():
            yield from texts(child)
    elif isinstance(value, list):
        for child in value:
            yield from texts(child)
    elif isinstance(value, str):
        yield value


def secret_values(raw: Mapping[str, str], secret_keys: frozenset[str]) -> tuple[str, ...]:
    """The plain text of every value under a key the engine flags secret, as the engine passes it."""
    found: set[str] = set()
    for key, text in raw.items():
        namespace, _, name = key.partition(":")
        if namespace == PROJECT and name in secret_keys:
            found.update(leaf for leaf in texts(_decode(text)) if leaf)
    return tuple(sorted(found))


def validate(stack: str, values: Mapping[str, Any], secret_keys: frozenset[str] = frozenset(),
             raw: Mapping[str, str] | None = None) -> StackConfig:
    """Validate everything and raise ONE ConfigError naming every problem, before anything is registered.

    `secret_keys` are the top-level keys (without the project prefix) the engine flags secret; the config
    remembers them and their values, so nothing derived from them is ever sent in plain text."""
    problems = [f"stack {stack!r}: {problem}" for problem in stack_name_problems(stack)]
    config: StackConfig | None = None
    try:
        config = StackConfig.model_validate(dict(values))
    except ValidationError as error:
        problems.extend(describe(error))
    problems.extend(secret_problems(values, secret_keys))
    if config is not None:
        problems.extend(stack_problems(stack, config))
    if problems:
        raise ConfigError(report(stack, problems))
    assert config is not None
    # The application source (dev builds from it) is checked once, by the environment, where the platform
    # says it builds from source (PlatformFacts.builds_from_source), before any resource is registered.
    return config.with_secrets(secret_keys, secret_values(raw or {}, secret_keys))


def workspace_path(config: StackConfig) -> Path:
    """The workspace root as an absolute path (relative values are relative to this repository)."""
    return (ROOT / Path(config.workspace_root).expanduser()).resolve()


def load(stack: str | None = None, raw: Mapping[str, str] | None = None,
         secret_keys: Iterable[str] | None = None) -> StackConfig:
    """Read, merge and validate the current stack's configuration.

    `raw` and `secret_keys` default to the engine's: the config bag and the keys it flags secret
    (`pulumi.runtime.is_config_secret`); the bag itself carries no secret flag."""
    stack = stack or pulumi.get_stack()
    if raw is None:
        raw = _engine_config()
    if secret_keys is None:
        secret_keys = [key for key in raw if pulumi.runtime.is_config_secret(key)]
    ours = frozenset(name for key in secret_keys
                     for namespace, _, name in [key.partition(":")] if namespace == PROJECT)
    return validate(stack, effective_values(stack, raw), ours, raw)


def _engine_config() -> Mapping[str, str]:
    # The language host hands the whole config bag to `set_all_config`; this is where it lives.
    from pulumi.runtime.config import CONFIG

    return dict(CONFIG.get())


def describe(error: ValidationError) -> list[str]:
    """One line per bad field: its key, what it expects, and what it got."""
    lines = []
    for problem in error.errors(include_url=False):
        location = [str(part) for part in problem["loc"]] or ["(stack)"]
        key = f"{PROJECT}:{location[0]}" + "".join(f".{part}" for part in location[1:])
        if problem["type"] == "extra_forbidden":
            lines.append(f"{key}: unknown key; see docs/config.md for the supported keys")
            continue
        message = problem["msg"].removeprefix("Value error, ")
        got = problem.get("input")
        mentions_input = problem["type"] == "value_error" or isinstance(got, (dict, list)) or got is None
        shown = "" if mentions_input else f" (got {got!r})"
        lines.append(f"{key}: {message}{shown}")
    return lines


def report(stack: str, problems: list[str]) -> str:
    """The one message: a count, every problem on its own line, and where to fix them."""
    return "\n".join([
        f"Invalid configuration for stack '{stack}': {len(problems)} problem(s). Nothing was changed.",
        *(f"  - {problem}" for problem in problems),
        f"Fix them in Pulumi.{stack}.yaml or with `pulumi config set --path <key> <value> --stack {stack}`.",
    ])
