"""Loki: single-binary log storage and query (filesystem storage, compactor retention)."""

from __future__ import annotations

from dataclasses import dataclass

from components import spec
from components.config import LokiConfig
from components.deploy import BlueprintComponent
from components.infra.common import resources_of
from components.monitoring.common import COMPONENT, LOKI, LOKI_PORT
from components.monitoring.loki.config import LokiConfigArgs, LokiPaths, loki_cli_flags, render_loki_config
from components.targets.labels import DATASOURCE_LABEL, EGRESS_LABEL

LOKI_UID = 10001


@dataclass(frozen=True, kw_only=True)
class LokiArgs:
    config: LokiConfig


def loki_blueprint(args: LokiArgs) -> spec.Blueprint:
    """Log storage and query (single binary)."""
    paths = LokiPaths()
    config_text = render_loki_config(LokiConfigArgs(retention_hours=args.config.retention_hours,
                                                    paths=paths, http_port=LOKI_PORT))
    ready = spec.Probe(http_path="/ready", port=LOKI_PORT, period_seconds=10)
    service = spec.Service(
        name=LOKI,
        component=COMPONENT,
        zone=spec.Zone.MONITORING,
        kind=spec.WorkloadKind.STATEFUL,
        ports=(spec.Port("loki", LOKI_PORT, metrics_path="/metrics"),),
        # Dashboards query it; it calls nobody.
        labels={DATASOURCE_LABEL: "true", EGRESS_LABEL: "declared"},
        volumes=(spec.DataVolume("data", paths.data_dir, args.config.storage),),
        # The compactor deletes what is older than the retention: shortening it is a stateful change.
        identity={"retention": f"{args.config.retention_hours}h"},
        probes=spec.Probes(readiness=ready, liveness=spec.Probe(tcp_port=LOKI_PORT, period_seconds=20,
                                                                failure_threshold=6),
                           startup=spec.Probe(http_path="/ready", port=LOKI_PORT,
                                              period_seconds=5, failure_threshold=60)),
        container=spec.Container(
            image=args.config.image,
            resources=resources_of(args.config.resources),
            args=tuple(loki_cli_flags(paths)),
            config_files=(spec.ConfigFile(paths.config_file, config_text),),
            security=spec.Security(run_as_user=LOKI_UID, run_as_group=LOKI_UID, fs_group=LOKI_UID),
        ),
    )
    return spec.Blueprint(services=(service,))


class Loki(BlueprintComponent):
    """Log storage and query (single binary)."""

    TYPE = "dreamscape:monitoring:Loki"
