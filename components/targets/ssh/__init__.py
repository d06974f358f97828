"""Hosts reached over SSH: the k3s cluster of a cluster stack. The ONLY package importing pulumi_command."""
