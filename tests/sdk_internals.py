"""Every use of the Pulumi Python SDK's private or undocumented API by the test harness, in one place.

The harness (tests/harness.py) runs the real program in-process under `pulumi.runtime.set_mocks` and needs
a few things the public API does not offer: a monitor whose registrations it can observe, a way to run
the program function and wait for it, the wire encoding of secrets, and resetting the process-wide
runtime state between two evaluations. Each such use is here, with the SDK object it relies on, so an
SDK upgrade (docs/release.md, "Upgrading dependencies") has one file to check. The locked SDK version
is in requirements.lock; `tests/test_sdk_internals.py` fails when one of these objects moves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

# Private: the mock monitor class behind `set_mocks`; the harness subclasses it to record the wire view.
from pulumi.runtime import mocks as _mocks

# Private: the wire encoding of secrets (`rpc._special_sig_key`, `rpc._special_secret_sig`).
from pulumi.runtime import rpc as _rpc

# Private: the process-wide runtime state (`settings.ROOT`, `settings.SETTINGS`).
from pulumi.runtime import settings as _settings

# Private: how the language host runs a program (`stack.run_pulumi_func`, `stack.wait_for_rpcs`).
from pulumi.runtime import stack as _stack

# Private: runs a coroutine to completion on the SDK's event loop (`sync_await._sync_await`).
from pulumi.runtime import sync_await as _sync

T = TypeVar("T")

MockMonitor = _mocks.MockMonitor
"""`pulumi.runtime.mocks.MockMonitor`: not exported by `pulumi.runtime`; `set_mocks(monitor=...)` takes one."""

SIG_KEY: str = _rpc._special_sig_key
"""`rpc._special_sig_key`: the key that marks a special value (secret, asset, resource) on the wire."""

SECRET_SIG: str = _rpc._special_secret_sig
"""`rpc._special_secret_sig`: the value of SIG_KEY on a secret; the wire view of a secret is
`{SIG_KEY: SECRET_SIG, "value": ...}`."""


def resolve(awaitable: Awaitable[T]) -> T:
    """`sync_await._sync_await`: wait for an SDK coroutine or future from synchronous test code."""
    result: T = _sync._sync_await(awaitable)
    return result


def run_program(program: Callable[[], None]) -> None:
    """`stack.run_pulumi_func`: what the language host does, i.e. run `program` inside the root Stack
    resource and wait until every registration and output has settled."""
    resolve(_stack.run_pulumi_func(program))


def reset_root_resource() -> None:
    """`settings.ROOT`: the context variable holding the Stack resource; `set_mocks` does not clear it,
    so a second evaluation in the same process would parent its resources to the first one's stack."""
    _settings.ROOT.set(None)


def discard_pending_outputs() -> None:
    """`settings.SETTINGS.lock` / `.outputs`: the set of pending output tasks, which `set_mocks` does not
    reset; a refused run can leave failing ones there, which the next run would await and re-raise."""
    with _settings.SETTINGS.lock:
        pending = list(_settings.SETTINGS.outputs)
        _settings.SETTINGS.outputs.clear()
    for task in pending:
        task.cancel()


def drain_failed_rpcs() -> None:
    """`settings.SETTINGS.rpc_manager.unhandled_exception` and `stack.wait_for_rpcs`: after a failed run,
    let every registration that waited on the failure fail on its own, forgetting each error (the run's
    error was already raised), so nothing leaks into the next run."""
    for _ in range(10_000):
        _settings.SETTINGS.rpc_manager.unhandled_exception = None
        try:
            resolve(_stack.wait_for_rpcs())
            break
        except Exception:  # draining: the failed run's error was already raised
            continue
