"""Monitoring stack: Prometheus, Alertmanager, Grafana, Loki and Alloy, plus the infrastructure exporters.

Every piece is a blueprint deployed through the environment's target; `config/` renders the files.
"""
