"""supervisord configuration of a Big Pod, rendered from the catalog with configparser.

Choices:
- ``nodaemon=true``: supervisord is the container's PID 1 child process tree root, in the foreground.
- The root filesystem is read-only: supervisord's own log goes to ``/dev/null`` (with ``nodaemon`` it is
  echoed to stdout anyway), its pid file and control socket live under ``/tmp``.
- Every program logs to the container's stdout/stderr (``*_logfile_maxbytes=0``: no rotation of a pipe).
- ``user`` is never set: the container already runs as UID 1000, and supervisord can't switch users then.
- ``stopasgroup``/``killasgroup``: ``npm`` wraps the real Node process, so signals go to the whole group.
- The gateway (NGINX) gets the highest priority number, so supervisord starts it after the services.
- Crash recovery: a process that keeps failing to start ends FATAL, and supervisord would keep the container
  running without it. An event listener on ``PROCESS_STATE_FATAL`` then stops supervisord (SIGTERM to its
  parent), supervisord stops the other processes and exits, and Docker (``restart: unless-stopped``) or
  Kubernetes (``restartPolicy: Always``) restarts the container: the restart shows in the container's
  restart count (``kube_pod_container_status_restarts_total``). The listener is a few lines of Python
  passed with ``python3 -c`` (supervisord brings Python into the image), so the image needs no extra file.
- Dev mode hands the service its inspector address, ``0.0.0.0:<debug port>``, in ``INSPECT_ADDRESS``
  (docs/application-contract.md), and the service's dev script puts it on the service's own ``node``
  command (``node --watch --inspect=$INSPECT_ADDRESS server.js``). Node options in the environment
  (``NODE_OPTIONS``, or npm's ``node-options``) would reach every Node process of the script tree: npm
  itself, a watcher such as nodemon, a TypeScript loader. Whichever starts first takes the port and the
  service itself cannot open it. A command that is not an npm script gets ``--inspect`` directly.
"""

from __future__ import annotations

import configparser
import io
import shlex
from collections.abc import Mapping
from enum import StrEnum
from pathlib import PurePosixPath

from components.pods.model import AppService, PodDefinition
from components.pods.render.static_web import server_command

SUPERVISORD_CONF_PATH = PurePosixPath("/etc/supervisord.conf")
NGINX_CONF_PATH = PurePosixPath("/etc/nginx/nginx.conf")
SOCKET_PATH = PurePosixPath("/tmp/supervisor.sock")
PIDFILE_PATH = PurePosixPath("/tmp/supervisord.pid")
NGINX_PROGRAM = "nginx"
INSPECT_ENV = "INSPECT_ADDRESS"
"""The environment variable that carries a service's inspector address in dev (the application contract)."""

FATAL_LISTENER = "fatal-exit"
FATAL_LISTENER_SOURCE = """\
import os, signal, sys
while True:
    sys.stdout.write('READY\\n'); sys.stdout.flush()
    header = dict(field.split(':', 1) for field in sys.stdin.readline().split())
    payload = sys.stdin.read(int(header['len']))
    sys.stderr.write('a process is FATAL, stopping the container so it restarts: ' + payload + '\\n')
    sys.stderr.flush()
    os.kill(os.getppid(), signal.SIGTERM)
    sys.stdout.write('RESULT 2\\nOK'); sys.stdout.flush()
"""
"""The supervisord event-listener protocol (READY, a header line with `len`, the payload, RESULT)."""

HEADER = "; Rendered from components/pods/catalog.py by `python -m components.pods.render`. Do not edit.\n"


class Mode(StrEnum):
    """How the pod's services run: dev (watchers, inspector) or prod (built code)."""

    DEV = "dev"
    PROD = "prod"


def _check_value(key: str, value: str) -> str:
    # supervisord expands %(name)s in values and uses "..." to quote environment values.
    if "%" in value or "\n" in value:
        raise ValueError(f"{key}: {value!r} must not contain '%' or a newline")
    return value


def _environment(env: Mapping[str, str]) -> str:
    for key, value in env.items():
        if '"' in value:
            raise ValueError(f"environment {key}: {value!r} must not contain a double quote")
    return ",".join(f'{key}="{value}"' for key, value in env.items())


def _logging() -> dict[str, str]:
    return {
        "stdout_logfile": "/dev/stdout",
        "stdout_logfile_maxbytes": "0",
        "stderr_logfile": "/dev/stderr",
        "stderr_logfile_maxbytes": "0",
    }


def service_environment(service: AppService, mode: Mode) -> dict[str, str]:
    """Environment supervisord adds for one service (the container's environment is inherited)."""
    env = {
        "NODE_ENV": "development" if mode is Mode.DEV else "production",
        "PORT": str(service.port),
        "HOST": "0.0.0.0",
    }
    if mode is Mode.DEV and service.debug_port is not None:
        env[INSPECT_ENV] = inspect_address(service)
    return env


def inspect_address(service: AppService) -> str:
    """Where the service's Node inspector listens in dev (all interfaces: the port is published)."""
    if service.debug_port is None:
        raise ValueError(f"{service.name} has no debug port")
    return f"0.0.0.0:{service.debug_port}"


def dev_command(service: AppService) -> tuple[str, ...]:
    """The dev command; a plain `node` command gets the inspector flag itself (npm scripts read
    INSPECT_ADDRESS in the script, on the service's own node command)."""
    command = service.dev_command
    if service.debug_port is not None and command[0] == "node":
        return (command[0], f"--inspect={inspect_address(service)}", *command[1:])
    return command


def prod_command(service: AppService) -> tuple[str, ...]:
    """A static site is served by its own NGINX in prod (render/static_web.py); a service runs its command."""
    return server_command(service) if service.static_dir is not None else service.prod_command


def _program(service: AppService, mode: Mode) -> dict[str, str]:
    static = mode is Mode.PROD and service.static_dir is not None
    return {
        "command": shlex.join(dev_command(service) if mode is Mode.DEV else prod_command(service)),
        "directory": str(service.app_dir),
        "environment": _environment(service_environment(service, mode)),
        "priority": str(service.priority),
        "autostart": "true",
        "autorestart": "true",
        "startsecs": "5",
        "startretries": "10",
        # NGINX finishes its requests on QUIT (TERM is its fast shutdown).
        "stopsignal": "QUIT" if static else "TERM",
        "stopwaitsecs": "20",
        "stopasgroup": "true",
        "killasgroup": "true",
        **_logging(),
    }


def _nginx_program(priority: int) -> dict[str, str]:
    return {
        # `-e stderr` before the config is read: the compiled-in error log path is not writable.
        "command": shlex.join(["nginx", "-e", "stderr", "-c", str(NGINX_CONF_PATH)]),
        "priority": str(priority),
        "autostart": "true",
        "autorestart": "true",
        "startsecs": "2",
        "startretries": "10",
        "stopsignal": "QUIT",
        "stopwaitsecs": "20",
        **_logging(),
    }


def fatal_listener() -> dict[str, str]:
    """The listener that turns a FATAL process into a container exit."""
    return {
        "command": shlex.join(["python3", "-c", f"exec({FATAL_LISTENER_SOURCE!r})"]),
        "events": "PROCESS_STATE_FATAL",
        "autostart": "true",
        "autorestart": "true",
        # The protocol runs over stdout; only stderr reaches the container's log.
        "stderr_logfile": "/dev/stderr",
        "stderr_logfile_maxbytes": "0",
    }


def supervisord_sections(pod: PodDefinition, mode: Mode) -> dict[str, dict[str, str]]:
    """The configuration as data: section name -> key -> value."""
    sections: dict[str, dict[str, str]] = {
        "supervisord": {
            "nodaemon": "true",
            "logfile": "/dev/null",
            "logfile_maxbytes": "0",
            "pidfile": str(PIDFILE_PATH),
            "childlogdir": "/tmp",
            "loglevel": "info",
        },
        "unix_http_server": {"file": str(SOCKET_PATH), "chmod": "0700"},
        "rpcinterface:supervisor": {
            "supervisor.rpcinterface_factory": "supervisor.rpcinterface:make_main_rpcinterface"
        },
        "supervisorctl": {"serverurl": f"unix://{SOCKET_PATH}"},
    }
    for service in sorted(pod.services, key=lambda s: s.priority):  # stable: catalog order
        sections[f"program:{service.name}"] = _program(service, mode)
    if pod.gateway is not None:
        if pod.has_service(NGINX_PROGRAM):
            raise ValueError(f"pod {pod.name}: a service may not be named {NGINX_PROGRAM!r}")
        sections[f"program:{NGINX_PROGRAM}"] = _nginx_program(pod.gateway.priority)
    if pod.has_service(FATAL_LISTENER):
        raise ValueError(f"pod {pod.name}: a service may not be named {FATAL_LISTENER!r}")
    sections[f"eventlistener:{FATAL_LISTENER}"] = fatal_listener()
    return sections


def render_supervisord(pod: PodDefinition, mode: Mode) -> str:
    """supervisord.conf text for `pod` in `mode`."""
    parser = configparser.ConfigParser(interpolation=None)
    for name, values in supervisord_sections(pod, mode).items():
        parser[name] = {key: _check_value(f"[{name}] {key}", value) for key, value in values.items()}
    out = io.StringIO()
    parser.write(out, space_around_delimiters=False)
    return HEADER + out.getvalue().rstrip("\n") + "\n"
