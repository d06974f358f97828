"""The rendered supervisord configs, read back by supervisor's own option parser."""

from __future__ import annotations

import configparser
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from supervisor.datatypes import RestartUnconditionally
from supervisor.options import EventListenerPoolConfig, ServerOptions

from components.pods.catalog import CATALOG, CORE
from components.pods.model import PodDefinition
from components.pods.render.supervisord import Mode, render_supervisord, supervisord_sections
from tests.tooling import require_tool

CASES = [pytest.param(pod, mode, id=f"{pod.name}-{mode}") for pod in CATALOG for mode in Mode]


def realize(tmp_path: Path, pod: PodDefinition, mode: Mode) -> Any:
    path = tmp_path / "supervisord.conf"
    path.write_text(render_supervisord(pod, mode), encoding="utf-8")
    options = ServerOptions()
    options.realize(args=["-c", str(path)])
    return options


def programs(options: Any) -> dict[str, Any]:
    return {
        process.name: process for group in options.process_group_configs for process in group.process_configs
        if not isinstance(group, EventListenerPoolConfig)
    }


@pytest.mark.parametrize(("pod", "mode"), CASES)
def test_every_pod_has_a_listener_that_turns_a_fatal_process_into_a_container_exit(
    tmp_path: Path, pod: PodDefinition, mode: Mode
) -> None:
    pools = [g for g in realize(tmp_path, pod, mode).process_group_configs if isinstance(g, EventListenerPoolConfig)]
    assert [p.name for p in pools] == ["fatal-exit"], f"{pod.name}: one FATAL listener, got {pools}"
    events = {event.__name__ for event in pools[0].pool_events}
    assert events == {"ProcessStateFatalEvent"}, f"the listener reacts to FATAL processes only: {events}"


@pytest.mark.parametrize(("pod", "mode"), CASES)
def test_supervisord_runs_in_the_foreground_without_files_on_the_root_fs(
    tmp_path: Path, pod: PodDefinition, mode: Mode
) -> None:
    options = realize(tmp_path, pod, mode)
    assert options.nodaemon, "supervisord must stay in the foreground as the container's main process"
    assert options.logfile == "/dev/null", "supervisord's own log file must not touch the read-only root"
    assert options.pidfile.startswith("/tmp/"), "the pid file lives on the writable /tmp"
    assert options.uid is None, "supervisord must not switch user: the container already runs as UID 1000"
    sockets = [config["file"] for config in options.server_configs]
    assert sockets == ["/tmp/supervisor.sock"], "supervisorctl talks to a socket under /tmp"


@pytest.mark.parametrize(("pod", "mode"), CASES)
def test_every_service_is_an_autorestarting_program_logging_to_the_container(
    tmp_path: Path, pod: PodDefinition, mode: Mode
) -> None:
    found = programs(realize(tmp_path, pod, mode))
    expected = {service.name for service in pod.services} | ({"nginx"} if pod.gateway else set())
    assert set(found) == expected, f"pod {pod.name} runs exactly its catalog processes, got {set(found)}"
    for name, process in found.items():
        assert process.autostart, f"{name} starts with the pod"
        assert process.autorestart is RestartUnconditionally, f"{name} is restarted whenever it exits"
        assert process.uid is None, f"{name} must not set user (non-root container)"
        assert (process.stdout_logfile, process.stdout_logfile_maxbytes) == ("/dev/stdout", 0), (
            f"{name} logs to the container's stdout without rotation"
        )
        assert (process.stderr_logfile, process.stderr_logfile_maxbytes) == ("/dev/stderr", 0), (
            f"{name} logs errors to the container's stderr without rotation"
        )
    for service in pod.services:
        assert found[service.name].directory == str(service.app_dir), f"{service.name} runs in its app dir"
        assert found[service.name].environment["PORT"] == str(service.port), f"{service.name} gets its PORT"
        assert found[service.name].stopasgroup, f"{service.name}: stop npm and its child Node process"


def test_nginx_starts_after_the_services_in_the_core_pod(tmp_path: Path) -> None:
    found = programs(realize(tmp_path, CORE, Mode.PROD))
    services = [found[service.name].priority for service in CORE.services]
    assert found["nginx"].priority > max(services), (
        f"NGINX (priority {found['nginx'].priority}) must start after its upstreams ({services})"
    )
    assert "-c /etc/nginx/nginx.conf" in found["nginx"].command, "NGINX reads the rendered config"


@pytest.mark.parametrize("pod", CATALOG, ids=[pod.name for pod in CATALOG])
def test_dev_mode_runs_the_dev_script_with_the_inspector_and_prod_does_not(
    tmp_path: Path, pod: PodDefinition
) -> None:
    dev = programs(realize(tmp_path, pod, Mode.DEV))
    prod = programs(realize(tmp_path, pod, Mode.PROD))
    for service in pod.services:
        assert dev[service.name].command.startswith("npm run dev"), f"{service.name} dev runs `npm run dev`"
        assert not prod[service.name].command.startswith("npm run dev"), f"{service.name} prod is built"
        assert dev[service.name].environment["NODE_ENV"] == "development", "dev NODE_ENV"
        assert prod[service.name].environment["NODE_ENV"] == "production", "prod NODE_ENV"
        dev_env = dev[service.name].environment
        prod_env = prod[service.name].environment
        assert "INSPECT_ADDRESS" not in prod_env, f"{service.name} never opens the inspector in prod"
        assert "--inspect" not in " ".join(prod_env.values()), f"{service.name}: no inspector flag in prod"
        for variable in ("NODE_OPTIONS", "npm_config_node_options"):
            assert "--inspect" not in dev_env.get(variable, ""), (
                f"{service.name}: {variable} would reach npm and the watcher, which would take the debug port"
            )
        if service.debug_port is not None:
            assert dev_env["INSPECT_ADDRESS"] == f"0.0.0.0:{service.debug_port}", (
                f"{service.name} gets its inspector address on its debug port in dev"
            )
        else:
            assert "INSPECT_ADDRESS" not in dev_env, f"{service.name} has no debug port, so no inspector"


def test_values_supervisord_would_interpolate_are_rejected() -> None:
    auth = CORE.service("auth")
    bad = type(CORE)(
        "bad",
        (type(auth)("svc", 3100, auth.source, prod_command=("node", "100%")),),
        replicas=1,
        resources=CORE.resources,
    )
    with pytest.raises(ValueError, match="%"):
        render_supervisord(bad, Mode.PROD)


def test_a_plain_node_dev_command_gets_the_inspector_flag_on_the_service_process_itself() -> None:
    auth = CORE.service("auth")
    direct = type(auth)("svc", 3100, auth.source, debug_port=9300, dev_command=("node", "--watch", "server.js"))
    pod = type(CORE)("direct", (direct,), replicas=1, resources=CORE.resources)
    program = supervisord_sections(pod, Mode.DEV)["program:svc"]
    assert program["command"] == "node --inspect=0.0.0.0:9300 --watch server.js", (
        f"the flag is on the node command (node --watch hands it to the service process): {program['command']}"
    )
    assert "INSPECT_ADDRESS" in program["environment"], "the address is also in the contract's variable"


def _run_pod(tmp_path: Path, crashing: str | None) -> tuple[subprocess.Popen[str], Path]:
    """The real supervisord with the rendered prod config of the core pod; every program replaced by a
    long sleep except `crashing`, which exits at once (as a service that cannot start). Only paths and
    commands differ from the image; the event listener, the restart policy and the retries are rendered."""
    sections = supervisord_sections(CORE, Mode.PROD)
    sections["supervisord"].update(pidfile=str(tmp_path / "supervisord.pid"), childlogdir=str(tmp_path))
    sections["unix_http_server"]["file"] = str(tmp_path / "supervisor.sock")
    sections["supervisorctl"]["serverurl"] = f"unix://{tmp_path / 'supervisor.sock'}"
    for name, values in sections.items():
        if name.startswith("program:"):
            values["command"] = "/bin/false" if name == f"program:{crashing}" else "sleep 300"
            values.pop("directory", None)
            if name == f"program:{crashing}":
                values["startretries"] = "1"  # FATAL after two quick failures, not after ten (55 s)
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_dict(sections)
    path = tmp_path / "supervisord.conf"
    with path.open("w", encoding="utf-8") as out:
        parser.write(out)
    supervisord = require_tool("supervisord")
    process = subprocess.Popen([supervisord, "-c", str(path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    return process, path


@pytest.mark.tools
def test_a_process_that_keeps_failing_stops_supervisord_so_the_container_restarts(tmp_path: Path) -> None:
    crashing = CORE.services[0].name
    process, _ = _run_pod(tmp_path, crashing)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail(f"supervisord kept running with {crashing} FATAL:\n{process.communicate()[0]}")
    log = process.communicate()[0]
    assert "a process is FATAL, stopping the container" in log, f"the listener says why:\n{log}"
    assert f"gave up: {crashing} entered FATAL state" in log, f"{crashing} was FATAL:\n{log}"
    leftover = subprocess.run(["pgrep", "-f", "sleep 300", "-P", str(process.pid)], capture_output=True, check=False)
    assert leftover.returncode != 0, "supervisord stopped the pod's other processes before exiting"


@pytest.mark.tools
def test_a_healthy_pod_keeps_running_with_the_listener_in_place(tmp_path: Path) -> None:
    process, path = _run_pod(tmp_path, crashing=None)
    try:
        time.sleep(8)
        assert process.poll() is None, "the listener stops nothing while every process runs"
        status = subprocess.run([require_tool("supervisorctl"), "-c", str(path), "status"],
                                capture_output=True, text=True, check=False)
        assert "fatal-exit" in status.stdout and "RUNNING" in status.stdout, f"listener is up:\n{status.stdout}"
    finally:
        process.terminate()
        process.wait(timeout=30)
