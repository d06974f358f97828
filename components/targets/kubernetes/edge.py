"""The public edge on k3s: Traefik v3 (built into k3s), Ingresses, Traefik middlewares, Let's Encrypt.

Choices (docs/edge.md):
- **Certificates: cert-manager**, from a ClusterIssuer (kubernetes/issuers.py) named by
  `cert-manager.io/cluster-issuer`, kept in the Secret `<route>-tls` that `spec.tls[].secretName` names.
  Traefik reads them from Secrets, so it keeps no state: the `traefik` HelmChartConfig in `kube-system`
  (k3s' supported way to configure its bundled Traefik) runs `traefikReplicas` replicas spread across
  nodes, with a PodDisruptionBudget. Shared review clusters set `kubernetes.edge.manageTraefik: false`.
- **HTTP -> HTTPS**: every host gets two Ingresses: `<route>` on the `websecure` entrypoint with TLS and
  the middlewares, and `<route>-redirect` on `web` whose only middleware is a permanent redirect. A TLS
  router never answers plain HTTP, so nothing is ever served unencrypted.
- **TLS 1.2 minimum**: a namespaced TLSOption `tls12` (not `default`, which is cluster-global and would
  clash between review namespaces), referenced by `router.tls.options`.
- **Middlewares** (`traefik.io/v1alpha1`): security headers (HSTS...), per-client rate limit, compression,
  and basic auth for routes that ask for it (Grafana), attached with
  `traefik.ingress.kubernetes.io/router.middlewares: <ns>-<name>@kubernetescrd`.
- **Long-lived routes (WebSocket)**: Traefik v3 closes a connection after the entrypoint's
  `respondingTimeouts.readTimeout` (60 s by default), and those timeouts exist only per entrypoint
  (static config), not per router. When a route is long-lived, the managed Traefik gets one-hour read,
  write and idle timeouts on `websecure` (shared review clusters: the cluster owner sets them, docs/edge.md).
  Long-lived routes skip compression: an upgraded connection is a byte stream, not a response to compress.
- **Canary releases** (docs/release.md): a route whose service runs a canary gets, instead of its TLS Ingress,
  a weighted `TraefikService` (stable and canary Services by the canary's weight, a cookie keeping each
  client on one release), an `IngressRoute` with the Ingress's entrypoint, TLS options and middlewares, and
  an explicit cert-manager `Certificate` for it (`weighted_tls_secret` says why not `<route>-tls`).

Pure builders (`*_spec`, `ingress_annotations`) are separate from the resources, so tests can read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.config import EdgeConfig
from components.spec import Route, canary_name
from components.targets.kubernetes import traefik
from components.targets.kubernetes.annotations import STICKY_COOKIE
from components.targets.labels import NAME_LABEL

JsonDict = dict[str, Any]

TRAEFIK_API = "traefik.io/v1alpha1"
HELM_CONFIG_API = "helm.cattle.io/v1"
TLS_OPTION = "tls12"
REDIRECT = "redirect-https"
HEADERS = "security-headers"
RATE_LIMIT = "rate-limit"
COMPRESS = "compress"
LONG_LIVED_TIMEOUT = "3600s"
"""How long the edge keeps a WebSocket (a long-lived route) open without it being closed by a timeout."""


def middleware_ref(namespace: str, name: str) -> str:
    return f"{namespace}-{name}@kubernetescrd"


def auth_middleware(route: Route) -> str:
    return f"{route.name}-auth"


def auth_secret(route: Route) -> str:
    return f"{route.name}-edge-auth"


def tls_secret(route: Route) -> str:
    return f"{route.name}-tls"


def route_middlewares(route: Route) -> list[str]:
    """In order: auth first (reject early), then rate limit, headers, compression."""
    names = [auth_middleware(route)] if route.auth else []
    names += [RATE_LIMIT] if route.rate_limited else []
    return [*names, HEADERS, *([] if route.long_lived else [COMPRESS])]


def traefik_values(config: EdgeConfig, long_lived: bool = False) -> str:
    """valuesContent of the `traefik` HelmChartConfig: replicas spread across nodes and a disruption
    budget (value names of the Traefik chart k3s bundles, docs/edge.md); with a long-lived route, the
    `websecure` entrypoint's long timeouts."""
    values: JsonDict = {
        "deployment": {"replicas": config.traefik_replicas},
        # The budget counts these requests x the replicas (kubernetes/traefik.py).
        "resources": traefik.resources_values(),
        # Preferred, not required: a cluster with fewer nodes than replicas still runs them all.
        "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
            "weight": 100,
            "podAffinityTerm": {
                "labelSelector": {"matchLabels": {NAME_LABEL: "traefik"}},
                "topologyKey": "kubernetes.io/hostname",
            },
        }]}},
        # A drain or upgrade takes one replica at a time; the others keep serving.
        "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1},
    }
    if long_lived:
        timeouts = dict.fromkeys(("readTimeout", "writeTimeout", "idleTimeout"), LONG_LIVED_TIMEOUT)
        values["ports"] = {"websecure": {"transport": {"respondingTimeouts": timeouts}}}
    text: str = yaml.safe_dump(values, sort_keys=True)
    return text


def tls_option_spec() -> JsonDict:
    return {
        "minVersion": "VersionTLS12",
        "sniStrict": True,
        # TLS 1.2 suites with forward secrecy and AEAD only (TLS 1.3 suites are not configurable).
        "cipherSuites": [
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        ],
    }


def middleware_specs(config: EdgeConfig) -> dict[str, JsonDict]:
    """The shared middlewares, by name."""
    return {
        REDIRECT: {"redirectScheme": {"scheme": "https", "permanent": True}},
        HEADERS: {"headers": {
            "stsSeconds": config.hsts_seconds,
            "stsIncludeSubdomains": True,
            "forceSTSHeader": True,
            "contentTypeNosniff": True,
            "frameDeny": True,
            "referrerPolicy": "strict-origin-when-cross-origin",
            "permissionsPolicy": "camera=(), microphone=(), geolocation=()",
            "customResponseHeaders": {"Server": "", "X-Powered-By": ""},
        }},
        RATE_LIMIT: {"rateLimit": {
            "average": config.rate_limit_average, "burst": config.rate_limit_burst, "period": "1s",
        }},
        COMPRESS: {"compress": {}},
    }


def ingress_annotations(route: Route, namespace: str, config: EdgeConfig, *,
                        redirect: bool) -> dict[str, str]:
    common = {
        # The backend's own readiness is awaited by its workload; Grafana may be deployed later.
        "pulumi.com/skipAwait": "true",
    }
    if redirect:
        return {
            **common,
            "traefik.ingress.kubernetes.io/router.entrypoints": "web",
            "traefik.ingress.kubernetes.io/router.middlewares": middleware_ref(namespace, REDIRECT),
        }
    return {
        **common,
        "cert-manager.io/cluster-issuer": config.cert_resolver,
        "traefik.ingress.kubernetes.io/router.entrypoints": "websecure",
        "traefik.ingress.kubernetes.io/router.tls": "true",
        "traefik.ingress.kubernetes.io/router.tls.options": middleware_ref(namespace, TLS_OPTION),
        "traefik.ingress.kubernetes.io/router.middlewares": ",".join(
            middleware_ref(namespace, name) for name in route_middlewares(route)
        ),
    }


def ingress_spec(route: Route, *, tls: bool) -> JsonDict:
    spec: JsonDict = {
        "ingress_class_name": "traefik",
        "rules": [{
            "host": route.host,
            "http": {"paths": [{
                "path": route.path,
                "path_type": "Prefix",
                "backend": {"service": {"name": route.service, "port": {"number": route.port}}},
            }]},
        }],
    }
    if tls:
        # cert-manager's ingress-shim issues the certificate into this Secret; Traefik serves it.
        spec["tls"] = [{"hosts": [route.host], "secret_name": tls_secret(route)}]
    return spec


TRACK_COOKIE = "dreamscape_track"
"""Pins a client to the stable or the canary for the session: a page and the assets it names must come
from one release (a canary's hashed bundles do not exist in the stable's image, and vice versa)."""
CERTIFICATE_API = "cert-manager.io/v1"


def weighted_spec(route: Route) -> JsonDict:
    """The TraefikService (`weighted`) that splits a canaried route between the stable Service and the
    canary's, by the canary's integer weights; a sticky route keeps its replica cookie inside each."""
    if route.canary is None:
        raise ValueError(f"route {route.name} has no canary to weigh")
    replica: JsonDict = {"sticky": {"cookie": {
        "name": STICKY_COOKIE, "secure": True, "httpOnly": True, "sameSite": "lax"}}} if route.sticky else {}
    arms = ((route.service, route.canary.stable_weight), (canary_name(route.service), route.canary.weight))
    return {"weighted": {
        "services": [{"name": service, "port": route.port, "weight": weight, **replica} for service, weight in arms],
        "sticky": {"cookie": {"name": TRACK_COOKIE, "secure": True, "httpOnly": True, "sameSite": "lax"}},
    }}


def weighted_tls_secret(route: Route) -> str:
    """The Secret (and Certificate) of a canaried route: never the Ingress's `<route>-tls`. cert-manager
    re-issues into a Secret whose `cert-manager.io/certificate-name` names another Certificate (its
    `SecretCertificateNameAnnotationsMismatch` policy), and the ingress-shim's Certificate `<route>-tls` is
    owned by the Ingress, so Kubernetes deletes it with the Ingress. A Secret of its own is issued once, at
    the route's first canary; cert-manager keeps it when the Certificate goes (the chart's default,
    enableCertificateOwnerRef: false), so later canaries reuse it without a new Let's Encrypt order."""
    return f"{route.name}-weighted-tls"


def ingress_route_spec(route: Route) -> JsonDict:
    """What the route's TLS Ingress says (ingress_annotations, ingress_spec), as an IngressRoute: an
    Ingress backend cannot be a TraefikService. Same entrypoint, TLS options and middlewares."""
    return {
        "entryPoints": ["websecure"],
        "routes": [{
            "kind": "Rule",
            "match": f"Host(`{route.host}`) && PathPrefix(`{route.path}`)",
            "middlewares": [{"name": name} for name in route_middlewares(route)],
            "services": [{"kind": "TraefikService", "name": route.name}],
        }],
        "tls": {"secretName": weighted_tls_secret(route), "options": {"name": TLS_OPTION}},
    }


def certificate_spec(route: Route, issuer: str) -> JsonDict:
    """The certificate the ingress-shim would ask for (same host, same ClusterIssuer), asked for explicitly:
    an IngressRoute has no shim."""
    return {
        "secretName": weighted_tls_secret(route),
        "dnsNames": [route.host],
        "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": issuer},
    }


@dataclass(frozen=True)
class EdgeArgs:
    routes: tuple[Route, ...]
    namespace: str
    config: EdgeConfig
    provider: k8s.Provider
    namespace_resource: pulumi.Resource
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    certificate_crd: pulumi.Resource | None = None
    """cert-manager's Certificate CRD, when this stack installs it: explicit Certificates wait for it."""


class Edge(pulumi.ComponentResource):
    """Ingresses, middlewares and TLS options of one namespace (and, when managed, Traefik's replicas)."""

    urls: dict[str, str]

    def __init__(self, name: str, args: EdgeArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("dreamscape:kubernetes:Edge", name, None, opts)
        self._args = args
        ns = args.namespace
        depends: list[pulumi.Resource] = [args.namespace_resource]
        if args.config.manage_traefik:
            depends.append(k8s.apiextensions.CustomResource(
                f"{name}-traefik-config",
                api_version=HELM_CONFIG_API,
                kind="HelmChartConfig",
                metadata={"name": "traefik", "namespace": "kube-system", "labels": dict(args.labels)},
                spec={"valuesContent": traefik_values(args.config, any(r.long_lived for r in args.routes))},
                opts=self._opts(),
            ))
        crds = [self._custom("TLSOption", TLS_OPTION, tls_option_spec(), depends)]
        crds += [self._custom("Middleware", mw, spec, depends)
                 for mw, spec in middleware_specs(args.config).items()]
        for route in args.routes:
            if route.auth is None:
                continue
            password: pulumi.Output[str] = pulumi.Output.secret(route.auth.password)
            credentials: dict[str, pulumi.Input[str]] = {
                "username": route.auth.username, "password": password,
            }
            secret = k8s.core.v1.Secret(
                f"{name}-{auth_secret(route)}",
                metadata=cast(Any, self._metadata(auth_secret(route))),
                type="kubernetes.io/basic-auth",
                string_data=credentials,
                opts=self._opts(depends_on=depends),
            )
            crds.append(self._custom("Middleware", auth_middleware(route), {"basicAuth": {
                "secret": auth_secret(route), "removeHeader": True, "realm": f"DreamScape {route.name}",
            }}, [*depends, secret]))
        for route in args.routes:
            if route.canary is not None:
                self._weighted_route(name, route, [*depends, *crds])
            for redirect in (False, True) if route.canary is None else (True,):
                ingress = f"{route.name}-redirect" if redirect else route.name
                annotations = ingress_annotations(route, ns, args.config, redirect=redirect)
                k8s.networking.v1.Ingress(
                    f"{name}-{ingress}",
                    metadata=cast(Any, self._metadata(ingress, annotations)),
                    spec=cast(Any, ingress_spec(route, tls=not redirect)),
                    opts=self._opts(depends_on=[*depends, *crds]),
                )
        self.urls = {r.name: f"{r.scheme}://{r.host}{r.path.rstrip('/')}" for r in args.routes}
        self.register_outputs({"urls": self.urls})

    def _weighted_route(self, name: str, route: Route, depends: list[pulumi.Resource]) -> None:
        """A canaried route: the TraefikService splitting it, the IngressRoute serving it over TLS, and
        the Certificate that fills its Secret. Its HTTP -> HTTPS redirect stays an Ingress."""
        weighted = self._custom("TraefikService", route.name, weighted_spec(route), depends)
        certificate = k8s.apiextensions.CustomResource(
            f"{name}-{weighted_tls_secret(route)}",
            api_version=CERTIFICATE_API,
            kind="Certificate",
            metadata=self._metadata(weighted_tls_secret(route)),
            spec=certificate_spec(route, self._args.config.cert_resolver),
            opts=self._opts(depends_on=[*depends, *filter(None, [self._args.certificate_crd])]),
        )
        self._custom("IngressRoute", route.name, ingress_route_spec(route), [*depends, weighted, certificate])

    def _opts(self, **kwargs: Any) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self._args.provider, **kwargs)

    def _metadata(self, name: str, annotations: Mapping[str, str] | None = None) -> JsonDict:
        meta: JsonDict = {"name": name, "namespace": self._args.namespace, "labels": dict(self._args.labels)}
        merged = {**self._args.annotations, **(annotations or {})}
        if merged:
            meta["annotations"] = merged
        return meta

    def _custom(self, kind: str, name: str, spec: JsonDict,
                depends: list[pulumi.Resource]) -> pulumi.Resource:
        return k8s.apiextensions.CustomResource(
            f"edge-{kind.lower()}-{name}",
            api_version=TRAEFIK_API,
            kind=kind,
            metadata=self._metadata(name),
            spec=spec,
            opts=self._opts(depends_on=depends),
        )
