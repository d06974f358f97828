"""`python -m tools.smoke --stack <s>`: check a running environment end to end, from its stack outputs.

Every URL answers, every Big Pod service is healthy, Postgres accepts the app user, Redis authenticates,
a Kafka message goes round trip, a MinIO object is put and read back, a WebSocket upgrade goes through
the edge, Prometheus has every target up, Grafana's datasources are healthy and Loki has recent logs of
every Big Pod. One progress line per check, then a report; the exit status is non-zero on any failure.
"""
