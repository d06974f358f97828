"""Single-binary Loki: filesystem storage, TSDB index with schema v13, retention by the compactor.

Retention only deletes anything when all three are set: `compactor.retention_enabled`, a
`compactor.delete_request_store`, and `limits_config.retention_period`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from components.monitoring._yaml import dump_yaml

INDEX_PERIOD_HOURS = 24


@dataclass(frozen=True)
class LokiPaths:
    """Where single-binary Loki expects its config; everything else lives under `data_dir` (a volume)."""

    config_file: str = "/etc/loki/loki.yaml"
    data_dir: str = "/loki"


@dataclass(frozen=True)
class LokiConfigArgs:
    retention_hours: int
    """How long logs are kept: 720 (30 days) in prod. A multiple of the 24h index period."""
    paths: LokiPaths = field(default_factory=LokiPaths)
    http_port: int = 3100
    grpc_port: int = 9096
    schema_from: str = "2024-04-01"
    """First day of the v13 schema period. Never change it once data exists."""
    log_level: str = "info"

    def __post_init__(self) -> None:
        if self.retention_hours < INDEX_PERIOD_HOURS or self.retention_hours % INDEX_PERIOD_HOURS:
            raise ValueError(
                f"retention_hours must be a positive multiple of {INDEX_PERIOD_HOURS}, "
                f"got {self.retention_hours}"
            )


def loki_config(args: LokiConfigArgs) -> dict[str, object]:
    data = args.paths.data_dir.rstrip("/")
    return {
        "auth_enabled": False,
        "server": {
            "http_listen_port": args.http_port,
            "grpc_listen_port": args.grpc_port,
            "log_level": args.log_level,
        },
        "common": {
            "instance_addr": "127.0.0.1",
            "path_prefix": data,
            "storage": {
                "filesystem": {"chunks_directory": f"{data}/chunks", "rules_directory": f"{data}/rules"}
            },
            "replication_factor": 1,
            "ring": {"kvstore": {"store": "inmemory"}},
        },
        "schema_config": {
            "configs": [
                {
                    "from": args.schema_from,
                    "store": "tsdb",
                    "object_store": "filesystem",
                    "schema": "v13",
                    "index": {"prefix": "index_", "period": f"{INDEX_PERIOD_HOURS}h"},
                }
            ]
        },
        "storage_config": {
            "tsdb_shipper": {
                "active_index_directory": f"{data}/tsdb-index",
                "cache_location": f"{data}/tsdb-cache",
            },
        },
        "compactor": {
            "working_directory": f"{data}/compactor",
            "compaction_interval": "10m",
            "retention_enabled": True,
            "retention_delete_delay": "2h",
            "delete_request_store": "filesystem",
        },
        "limits_config": {
            "retention_period": f"{args.retention_hours}h",
            "reject_old_samples": True,
            "reject_old_samples_max_age": "168h",
            "allow_structured_metadata": True,
            "volume_enabled": True,
        },
        "analytics": {"reporting_enabled": False},
    }


def render_loki_config(args: LokiConfigArgs) -> str:
    return dump_yaml(loki_config(args))


def loki_cli_flags(paths: LokiPaths | None = None) -> list[str]:
    return [f"-config.file={(paths or LokiPaths()).config_file}"]
