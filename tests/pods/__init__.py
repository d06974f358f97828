"""Tests of the Big Pods catalog, renderers and images."""
