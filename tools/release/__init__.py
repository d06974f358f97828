"""Releases of shared stacks: which image tag runs, which one last passed its smoke test, and rollback."""
