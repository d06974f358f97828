"""Monitoring stack: Prometheus, Alertmanager, Grafana, Loki and Alloy."""
