"""The Big Pods: a typed catalog of the multi-process containers and renderers for their images."""

from components.pods.catalog import (
    CATALOG,
    AppService,
    HttpCheck,
    Infra,
    NginxGateway,
    PodDefinition,
    PodPort,
    RateLimit,
    Resources,
    Route,
)

__all__ = [
    "CATALOG",
    "AppService",
    "HttpCheck",
    "Infra",
    "NginxGateway",
    "PodDefinition",
    "PodPort",
    "RateLimit",
    "Resources",
    "Route",
]
