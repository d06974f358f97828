"""Tests against real engines (a Docker daemon, a cluster); they skip where there is none."""
