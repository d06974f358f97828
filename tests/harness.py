"""Run the real program (`__main__.py`) under Pulumi's mock runtime and record what providers would get.

The recording monitor keeps, for every resource, both the plain inputs and the *wire* view: the
serialized properties exactly as the engine would receive them, secret markers included. Tests use the
wire view to prove that no secret value ever travels in plain text.

The config bag is assembled the way the Pulumi CLI does it: project defaults from Pulumi.yaml (object
values as JSON), then the stack file, then what the operators set as secret config (`OPERATOR_SECRETS`),
then per-test overrides.
"""

from __future__ import annotations

import hashlib
import json
import runpy
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml
from google.protobuf import json_format

from components.deploy import Deployments
from components.spec import Service
from components.targets import Deployed
from tests import sdk_internals

ROOT = Path(__file__).resolve().parents[1]
TEST_WORKSPACE = ROOT / "tests" / "fixtures" / "workspace"
"""A workspace with the seed's layout (a package.json with a `dev` script per service, no code): dev's
application-contract check passes without the real service repositories. Override `workspaceRoot` to
test the check itself."""
PROJECT = "dreamscape"
OPERATOR_SECRETS: Mapping[str, Mapping[str, Any]] = {
    "prod": {"alerting": {"slackWebhook": "https://hooks.slack.com/services/T000/B000/operator-set",
                          "pagerdutyRoutingKey": "operator-set-routing-key"}},
}
"""Secret config the operators keep in a committed stack file, encrypted (`pulumi config set --secret`), which
this checkout cannot decrypt: stand-in values, passed as `--secret` keys. Prod refuses to run without an
alert receiver, as a real prod stack file carries one."""
SECRET_SIG = sdk_internals.SECRET_SIG
SIG_KEY = sdk_internals.SIG_KEY


@dataclass
class Registered:
    type: str
    name: str
    inputs: dict[str, Any]
    wire: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)
    urn: str = ""


@dataclass
class Export:
    value: Any
    secret: bool


@dataclass
class Evaluation:
    stack: str
    resources: list[Registered]
    outputs: dict[str, Export]
    generated_secrets: set[str]
    services: list[Service] = field(default_factory=list)
    """Every `spec.Service` the target received, in deployment order."""

    def of_type(self, type_: str) -> list[Registered]:
        return [r for r in self.resources if r.type == type_]

    def named(self, type_: str, name: str) -> Registered:
        matches = [r for r in self.of_type(type_) if r.name == name]
        assert len(matches) == 1, f"expected exactly one {type_} named {name!r}, found {len(matches)}"
        return matches[0]

    def types(self) -> set[str]:
        return {r.type for r in self.resources}


def _digest(text: str) -> str:
    """Stable across processes (unlike hash()), so two evaluations can be compared value for value."""
    return hashlib.sha256(text.encode()).hexdigest()


def _fake_secret(name: str, length: int) -> str:
    """Deterministic, unique, recognisable: tests search for these strings everywhere."""
    base = f"GENSECRET{_digest(name)[:8]}{name.replace('-', '')}"
    return (base * (length // len(base) + 1))[: max(length, 24)]


K3S_KUBECONFIG = """apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: RkFLRUNB
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: RkFLRUNFUlQ=
    client-key-data: RkFLRUtFWUs3U0FETUlO
"""
"""/etc/rancher/k3s/k3s.yaml as a k3s server writes it (the client key is what makes it a secret)."""


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.previous_outputs: dict[str, Any] = {}
        self.resources: list[Registered] = []
        self.generated_secrets: set[str] = set()
        self.exit_codes: dict[str, int] = {}
        """Exit codes of one-shot Docker containers (tasks) by resource name; 0 when not named."""
        self._lock = threading.Lock()

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        state = dict(args.inputs)
        if args.typ == "pulumi:pulumi:StackReference":
            # The program reads its own stack's previous outputs (the stateful guard).
            return args.name, {"name": args.name, "outputs": self.previous_outputs, "secretOutputNames": []}
        if args.typ == "random:index/randomPassword:RandomPassword":
            # A bumped generation (the only keeper) yields a new value, as pulumi-random's replacement does.
            generation = str((args.inputs.get("keepers") or {}).get("generation", "0"))
            seed = args.name if generation == "0" else f"{args.name}-generation{generation}"
            state["result"] = _fake_secret(seed, int(args.inputs.get("length", 32)))
            with self._lock:
                self.generated_secrets.add(state["result"])
        elif args.typ == "random:index/randomId:RandomId":
            state["b64Url"] = "MkU4NjM3NTctOWQ5Ny00Nw"
            state["hex"] = "32453836333735372d39643937"
        elif args.typ == "command:remote:Command":
            # Only the kubeconfig read consumes a command's output: answer as a k3s server's k3s.yaml reads.
            state["stdout"] = K3S_KUBECONFIG
        elif args.typ == "docker-build:index:Image":
            state["ref"] = str((args.inputs.get("tags") or [""])[0])
        elif args.typ == "docker:index/container:Container" and args.inputs.get("attach"):
            state["exitCode"] = self.exit_codes.get(args.name, 0)
        elif args.typ == "docker:index/remoteImage:RemoteImage":
            state["imageId"] = f"sha256:{_digest(str(args.inputs.get('name')))}"
        elif args.typ.startswith("kubernetes:") and "metadata" in state:
            state["metadata"] = {**state["metadata"], "name": state["metadata"].get("name", args.name)}
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


class RecordingMonitor(sdk_internals.MockMonitor):
    """Keeps the wire view of each registration (RegisterResource runs on several threads)."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.recording = mocks
        self._qualified: dict[str, str] = {}

    def _engine_urn(self, mock_urn: str, parent: str, type_: str, name: str) -> str:
        """The URN the engine would assign. The SDK's mock prefixes only the parent's own type; the engine
        qualifies a type with the whole chain of parent types below the stack."""
        chain = self._qualified.get(parent)
        qualified = f"{chain}${type_}" if chain else type_
        self._qualified[mock_urn] = qualified
        return f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{qualified}::{name}"

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            with self.recording._lock:
                urn = self._engine_urn(response.urn, request.parent, request.type, request.name)
            wire = json_format.MessageToDict(request.object)
            inputs = json.loads(json.dumps(_unwrap(wire)))
            options = {"protect": request.protect, "retainOnDelete": request.retainOnDelete,
                       "deleteBeforeReplace": request.deleteBeforeReplace, "parent": request.parent,
                       "dependencies": list(request.dependencies), "provider": request.provider}
            with self.recording._lock:
                self.recording.resources.append(
                    Registered(request.type, request.name, inputs, wire, options, urn)
                )
        return response


def _unwrap(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return _unwrap(value.get("value"))
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


def project_config() -> dict[str, str]:
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text()).get("config", {})
    bag: dict[str, str] = {}
    for key, decl in declared.items():
        if isinstance(decl, dict) and "value" in decl:
            bag[f"{PROJECT}:{key}"] = _as_config_text(decl["value"])
        elif isinstance(decl, dict) and "default" in decl:
            bag[f"{PROJECT}:{key}"] = _as_config_text(decl["default"])
        elif not isinstance(decl, dict):
            bag[f"{PROJECT}:{key}"] = _as_config_text(decl)
    return bag


def stack_file_config(stack: str) -> dict[str, str]:
    path = ROOT / f"Pulumi.{stack}.yaml"
    if not path.exists():
        return {}
    values = (yaml.safe_load(path.read_text()) or {}).get("config", {})
    return {key: _as_config_text(value) for key, value in values.items()}


def _as_config_text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


STACK_SECRETS: dict[str, dict[str, Any]] = {
    "prod": {"backup": {"offsite": {"accessKeyId": "OFFSITEKEYIDPROD0001",
                                    "secretAccessKey": "offsite-secret-access-key-of-prod-0001"}}},
}
"""Secret parts an operator sets once per stack with `pulumi config set --secret --path` inside an object the
stack file also holds (encrypted there, which this checkout cannot write): merged into that key's value,
the key flagged secret. Whole secret keys are `OPERATOR_SECRETS`."""


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        current = merged.get(key)
        merged[key] = _deep_merge(current, value) if isinstance(current, dict) and isinstance(value, dict) else value
    return merged


def with_stack_secrets(stack: str, bag: dict[str, str]) -> list[str]:
    """Add the stack's `--path` secret config to `bag` as the CLI would pass it; return the keys it flags
    secret. A test that overrides the key keeps the stack file's other values under it (the secret parts
    are set with `--path`, into the same object); `OPERATOR_SECRETS` are whole keys instead."""
    keys = []
    for key, secret in STACK_SECRETS.get(stack, {}).items():
        full = f"{PROJECT}:{key}"
        if full not in bag:
            continue
        current = json.loads(bag[full])
        from_file = json.loads(stack_file_config(stack).get(full, "{}"))
        bag[full] = json.dumps(_deep_merge(_deep_merge(from_file, current), secret))
        keys.append(key)
    return keys


def config_bag(stack: str, overrides: Mapping[str, Any] | None = None, stack_secrets: bool = True) -> dict[str, str]:
    """What the CLI would hand the program: project defaults, then the stack file, then overrides, then the
    stack's secret config (`STACK_SECRETS`). Like the CLI, it tells the runtime which keys are secret, so
    `load(stack, config_bag(stack))` sees the same flags as the program does."""
    bag = project_config()
    bag.update(stack_file_config(stack))
    bag.update({f"{PROJECT}:{key}": _as_config_text(value) for key, value in OPERATOR_SECRETS.get(stack, {}).items()})
    bag[f"{PROJECT}:workspaceRoot"] = str(TEST_WORKSPACE)
    for key, value in (overrides or {}).items():
        full = key if ":" in key else f"{PROJECT}:{key}"
        if value is None:
            bag.pop(full, None)
        else:
            bag[full] = _as_config_text(value)
    if stack_secrets:
        with_stack_secrets(stack, bag)
    pulumi.runtime.set_all_config(bag, sorted(secret_flags(stack, overrides, bag, stack_secrets)))
    return bag


def secret_flags(stack: str, overrides: Mapping[str, Any] | None, bag: Mapping[str, str],
                 stack_secrets: bool = True) -> set[str]:
    """The keys the CLI would flag secret: the operators' whole keys a test did not override, and the keys
    that hold a `--path` secret (`STACK_SECRETS`)."""
    overridden = {key if ":" in key else f"{PROJECT}:{key}" for key in (overrides or {})}
    operator_keys = {f"{PROJECT}:{key}" for key in OPERATOR_SECRETS.get(stack, {})} - overridden
    path_keys = {f"{PROJECT}:{key}" for key in STACK_SECRETS.get(stack, {})
                 if stack_secrets and f"{PROJECT}:{key}" in bag}
    return operator_keys | path_keys


_LAST_RUN: dict[str, RecordingMocks] = {}


@dataclass
class Refusal:
    message: str
    registered: list[Registered]
    """What reached the engine before the run stopped (the guarantee is usually: nothing)."""


def refuse(stack: str, overrides: Mapping[str, Any] | None = None,
           previous_outputs: Mapping[str, Any] | None = None, secret_keys: Iterable[str] = (),
           stack_secrets: bool = True) -> Refusal:
    """Evaluate a stack that must stop with a ConfigError; return its message and what was registered."""
    from components.config import ConfigError

    try:
        evaluate(stack, overrides, previous_outputs=previous_outputs, secret_keys=secret_keys,
                 stack_secrets=stack_secrets)
    except ConfigError as error:
        return Refusal(str(error), list(_LAST_RUN["mocks"].resources))
    raise AssertionError(f"{stack} with {overrides} was expected to stop with a ConfigError")


def evaluate(stack: str, overrides: Mapping[str, Any] | None = None, preview: bool = False,
             previous_outputs: Mapping[str, Any] | None = None, secret_keys: Iterable[str] = (),
             exit_codes: Mapping[str, int] | None = None, stack_secrets: bool = True) -> Evaluation:
    """Run __main__.py for `stack` under mocks; return every registration and the resolved exports.

    `previous_outputs` are the stack's outputs of its last update, as a StackReference to itself reads them.
    `secret_keys` name the config keys set with `--secret` (`kubernetes`, or `dreamscape:kubernetes`): they
    reach the program the way the Python exec shim passes them, `set_all_config(config, secret_keys)`.
    `exit_codes` make one-shot Docker containers (tasks) exit with a status other than 0, by name.
    `stack_secrets`: add the secret config the stack's operator set (`STACK_SECRETS`); off to test its absence.
    """
    _discard_pending_outputs()
    mocks = RecordingMocks()
    _LAST_RUN["mocks"] = mocks
    mocks.previous_outputs = dict(previous_outputs or {})
    mocks.exit_codes = dict(exit_codes or {})
    monitor = RecordingMonitor(mocks)
    bag = config_bag(stack, overrides, stack_secrets)
    pulumi.runtime.set_all_config(bag, sorted({key if ":" in key else f"{PROJECT}:{key}" for key in secret_keys}
                                              | secret_flags(stack, overrides, bag, stack_secrets)))
    sdk_internals.reset_root_resource()
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor)
    received: list[Service] = []
    record = Deployments.add

    def recording_add(self: Deployments, deployed: Deployed) -> None:
        if isinstance(deployed.service, Service):  # tasks are recorded as registrations only
            received.append(deployed.service)
        record(self, deployed)

    def program() -> None:
        Deployments.add = recording_add  # type: ignore[method-assign]
        try:
            runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")
        finally:
            Deployments.add = record  # type: ignore[method-assign]

    try:
        sdk_internals.run_program(program)
    except BaseException:
        _settle()
        raise
    root = pulumi.runtime.get_root_resource()
    outputs: dict[str, Export] = {}
    for key, raw in (getattr(root, "outputs", None) or {}).items():
        output = pulumi.Output.from_input(raw)
        value = sdk_internals.resolve(output.future())
        secret = sdk_internals.resolve(output.is_secret())
        outputs[key] = Export(value=value, secret=bool(secret))
    return Evaluation(stack, list(mocks.resources), outputs, set(mocks.generated_secrets), received)


def _discard_pending_outputs() -> None:
    sdk_internals.discard_pending_outputs()


def _settle() -> None:
    """After a failed run, let its pending outputs finish so their errors cannot leak into the next run."""
    sdk_internals.drain_failed_rpcs()
    sdk_internals.discard_pending_outputs()


def walk_plain(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf of a wire value that is NOT inside a secret marker, with its path."""
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return
        for key, child in value.items():
            yield from walk_plain(child, f"{path}.{key}")
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from walk_plain(child, f"{path}[{index}]")
    else:
        yield path, value
