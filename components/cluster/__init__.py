"""The k3s cluster as data: node settings, hardening, remote scripts and the kubeconfig, all pure.

components/targets/ssh registers them with pulumi-command; nothing here imports a provider.
"""
