"""Metrics exporters, each living in the zone of what it watches, each declaring its metrics port.

Inside its zone an exporter is reachable by the zone's members and clients, as the data service itself
is (zone policies admit every port); outside it, only the scraper reaches its metrics port
(docs/security.md).

- postgres-exporter, redis-exporter, kafka-exporter: one per data service; no postgres-exporter where the
  database's own members serve its metrics (an operator's cluster, components.monitoring.database_metrics);
- `<pod>-nginx-exporter`: the official nginx-prometheus-exporter beside each Big Pod gateway, reading its
  `stub_status` page through the pod's Service (NGINX serves no Prometheus metrics itself). It carries the
  Big Pod label, so its series are `pod=<big pod>, service=nginx`, and the reporter label, so nothing
  mistakes its own container (and memory limit) for the pod's. Behind a Service with several
  replicas each scrape reads one replica: `nginx_up` (what the alert uses) is exact, the connection
  gauges are a sample of one replica;
- kube-state-metrics (when `cluster_state` is given): Deployments, StatefulSets, Jobs, CronJobs, PVCs and
  Pods (container restarts and waiting reasons) of the environment's namespace, listed with a namespace
  Role (`--namespaces`), nothing cluster-wide.

- postgres_exporter reads the password from `DATA_SOURCE_PASS_FILE`. It connects as the superuser for
  now (the statistics views need `pg_monitor`); a dedicated monitoring role belongs to the Postgres
  bootstrap and is a follow-up.
- redis_exporter's `REDIS_PASSWORD_FILE` is a JSON map of Redis URI -> password, so the file lists the
  service address and, in cluster mode, every member.
- kafka-exporter needs no credentials (the PLAINTEXT listener is only reachable inside the zone).
Each exporter's probes only check that its own HTTP listener is up (a TCP check the kubelet runs itself;
redis_exporter's image has no shell), so a slow data service never fails the deployment. Docker gets no
healthcheck for bare TCP probes, and postgres_exporter keeps an HTTP readiness check there.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components import spec
from components.config import ExportersConfig
from components.deploy import BlueprintComponent
from components.infra import postgres as postgres_server
from components.infra import redis as redis_server
from components.infra.common import resources_of
from components.monitoring import labels
from components.monitoring.common import COMPONENT, NOBODY
from components.targets.labels import EGRESS_LABEL

_SECURITY = spec.Security(run_as_user=NOBODY, run_as_group=NOBODY, fs_group=None)


@dataclass(frozen=True, kw_only=True)
class Exporter:
    """An exporter's service name and metrics port (its labels come from the scrape view)."""

    host: str
    port: int
    metrics_path: str = "/metrics"


POSTGRES_EXPORTER = Exporter(host="postgres-exporter", port=9187)
REDIS_EXPORTER = Exporter(host="redis-exporter", port=9121)
KAFKA_EXPORTER = Exporter(host="kafka-exporter", port=9308)


@dataclass(frozen=True, kw_only=True)
class ExportersArgs:
    config: ExportersConfig
    postgres_host: str
    postgres_port: int
    postgres_user: str
    postgres_password: pulumi.Output[str]
    redis_addresses: tuple[str, ...]
    """`host:port` of the service first, then every cluster member (empty tail for standalone)."""
    redis_password: pulumi.Output[str]
    redis_cluster: bool
    kafka_bootstrap: str
    gateways: tuple[NginxStatus, ...] = ()
    cluster_state: ClusterState | None = None
    postgres_exporter: bool = True
    """False where the database's own members serve its metrics (an operator's cluster: scrape.py)."""
    transit_tls: bool = False
    """Postgres and Redis speak TLS (`PlatformFacts.transit_tls`): their exporters verify them with the CA."""


@dataclass(frozen=True, kw_only=True)
class NginxStatus:
    """A Big Pod gateway's stub_status page."""

    pod: str
    """The Big Pod name (the `pod` label of the exporter's series)."""
    host: str
    port: int
    path: str

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self.path}"


@dataclass(frozen=True, kw_only=True)
class ClusterState:
    """Where kube-state-metrics reads the cluster state: the environment's namespace."""

    namespace: str


NGINX_EXPORTER_PORT = 9113
KUBE_STATE_METRICS_PORT = 8080
KUBE_STATE_METRICS_TELEMETRY_PORT = 8081
KUBE_STATE_METRICS_RESOURCES = ("cronjobs", "deployments", "jobs", "persistentvolumeclaims", "pods", "statefulsets")
"""What the rules and dashboards read. The pods' own `pod` label meets our target label `pod`: Prometheus
keeps it as `exported_pod` (honor_labels is off), and the crash-loop rules name it `kubernetes_pod`."""


def redis_password_file(addresses: tuple[str, ...], password: pulumi.Output[str],
                        transit_tls: bool = False) -> pulumi.Output[str]:
    """redis_exporter looks a target's password up by its full URI, scheme included."""
    scheme = redis_server.scheme(transit_tls)
    return pulumi.Output.secret(pulumi.Output.json_dumps({f"{scheme}://{a}": password for a in addresses}))


def _alive(port: int) -> spec.Probe:
    """The exporter's HTTP listener is up (it answers even while its data service is still starting)."""
    return spec.Probe(tcp_port=port, period_seconds=20, failure_threshold=6)


_DECLARED = {EGRESS_LABEL: "declared"}
"""kube-state-metrics calls only the Kubernetes API (not its monitoring-zone peers)."""


def _exporter(exporter: Exporter, zone: spec.Zone, container: spec.Container,
              readiness: spec.Probe | None = None) -> spec.Service:
    """One exporter: its zone's data service is what it watches; Prometheus scrapes its metrics port."""
    return spec.Service(
        name=exporter.host,
        component=_COMPONENTS[zone],
        zone=zone,
        ports=(spec.Port("metrics", exporter.port, metrics_path=exporter.metrics_path,
                         audience=spec.PortAudience.SCRAPER),),
        probes=spec.Probes(readiness=readiness or _alive(exporter.port), liveness=_alive(exporter.port)),
        container=container,
    )


_COMPONENTS = {spec.Zone.DATABASE: "database", spec.Zone.CACHE: "cache", spec.Zone.MESSAGING: "messaging"}


def nginx_exporter(gateway: NginxStatus, image: str, resources: spec.Resources) -> spec.Service:
    """nginx-prometheus-exporter for one gateway, in the Big Pods' zone (stub_status admits only private
    addresses, and the zone's pods reach each other)."""
    return spec.Service(
        name=f"{gateway.host}-nginx-exporter",
        component="bigpods",
        zone=spec.Zone.BIGPODS,
        ports=(spec.Port("nginx", NGINX_EXPORTER_PORT, metrics_path="/metrics", audience=spec.PortAudience.SCRAPER),),
        labels={labels.BIG_POD_LABEL: gateway.pod, labels.REPORTER_LABEL: gateway.pod},
        probes=spec.Probes(readiness=_alive(NGINX_EXPORTER_PORT), liveness=_alive(NGINX_EXPORTER_PORT)),
        container=spec.Container(
            image=image,
            resources=resources,
            args=(f"--nginx.scrape-uri={gateway.url}", f"--web.listen-address=:{NGINX_EXPORTER_PORT}"),
            security=_SECURITY,
        ),
    )


def kube_state_metrics(state: ClusterState, image: str, resources: spec.Resources) -> spec.Service:
    """kube-state-metrics for one namespace: flags and RBAC follow the upstream standard example, narrowed
    to the namespace and to the resources the rules read."""
    groups = {"": ("persistentvolumeclaims", "pods"), "apps": ("deployments", "statefulsets"),
              "batch": ("cronjobs", "jobs")}
    return spec.Service(
        name="kube-state-metrics",
        component=COMPONENT,
        zone=spec.Zone.MONITORING,
        ports=(spec.Port("http-metrics", KUBE_STATE_METRICS_PORT, metrics_path="/metrics",
                         audience=spec.PortAudience.SCRAPER),
               spec.Port("telemetry", KUBE_STATE_METRICS_TELEMETRY_PORT, audience=spec.PortAudience.OPERATORS)),
        api_rules=tuple(spec.ApiRule((group,), resources, ("list", "watch")) for group, resources in groups.items()),
        labels=_DECLARED,
        probes=spec.Probes(
            readiness=spec.Probe(http_path="/readyz", port=KUBE_STATE_METRICS_TELEMETRY_PORT, initial_delay_seconds=5),
            liveness=spec.Probe(http_path="/livez", port=KUBE_STATE_METRICS_PORT, initial_delay_seconds=5),
        ),
        container=spec.Container(
            image=image,
            resources=resources,
            args=(f"--port={KUBE_STATE_METRICS_PORT}", f"--telemetry-port={KUBE_STATE_METRICS_TELEMETRY_PORT}",
                  f"--namespaces={state.namespace}", f"--resources={','.join(KUBE_STATE_METRICS_RESOURCES)}"),
            security=_SECURITY,
        ),
    )


def blueprint(args: ExportersArgs) -> spec.Blueprint:
    """postgres-exporter, redis-exporter, kafka-exporter, the gateways' NGINX exporters and (on a cluster)
    kube-state-metrics."""
    resources = resources_of(args.config.resources)
    pg_password = spec.SecretFile("postgres-exporter-password", args.postgres_password)
    postgres = _exporter(POSTGRES_EXPORTER, spec.Zone.DATABASE, spec.Container(
        image=args.config.postgres_image,
        resources=resources,
        env=spec.frozen_map({
            "DATA_SOURCE_URI": f"{args.postgres_host}:{args.postgres_port}/postgres?"
                               f"{postgres_server.url_query(args.transit_tls)}",
            "DATA_SOURCE_USER": args.postgres_user,
            "DATA_SOURCE_PASS_FILE": pg_password.path,
        }),
        secret_files=(pg_password,),
        trusts_ca=args.transit_tls,
        security=_SECURITY,
    ), readiness=spec.Probe(http_path="/", port=POSTGRES_EXPORTER.port))
    redis_file = spec.SecretFile("redis-exporter-passwords.json",
                                 redis_password_file(args.redis_addresses, args.redis_password, args.transit_tls))
    redis_env = {"REDIS_ADDR": f"{redis_server.scheme(args.transit_tls)}://{args.redis_addresses[0]}",
                 "REDIS_PASSWORD_FILE": redis_file.path}
    if args.transit_tls:
        # redis_exporter checks the chain and, as a Go TLS client, the host name it dialled.
        redis_env["REDIS_EXPORTER_TLS_CA_CERT_FILE"] = spec.CA_FILE
    if args.redis_cluster:
        redis_env["REDIS_EXPORTER_IS_CLUSTER"] = "true"
    redis = _exporter(REDIS_EXPORTER, spec.Zone.CACHE, spec.Container(
        image=args.config.redis_image,
        resources=resources,
        env=spec.frozen_map(redis_env),
        secret_files=(redis_file,),
        trusts_ca=args.transit_tls,
        security=_SECURITY,
    ))
    kafka = _exporter(KAFKA_EXPORTER, spec.Zone.MESSAGING, spec.Container(
        image=args.config.kafka_image,
        resources=resources,
        args=(f"--kafka.server={args.kafka_bootstrap}",),
        security=_SECURITY,
    ))
    services = [*([postgres] if args.postgres_exporter else []), redis, kafka]
    services += [nginx_exporter(gateway, args.config.nginx_image, resources) for gateway in args.gateways]
    if args.cluster_state is not None:
        services.append(kube_state_metrics(args.cluster_state, args.config.kube_state_metrics_image, resources))
    return spec.Blueprint(services=tuple(services))


class Exporters(BlueprintComponent):
    """postgres-exporter, redis-exporter, kafka-exporter, the gateways' NGINX exporters and (on a cluster)
    kube-state-metrics."""

    TYPE = "dreamscape:monitoring:Exporters"
