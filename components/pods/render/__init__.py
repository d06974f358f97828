"""Renderers: typed catalog data in, configuration file text out (no Pulumi, no I/O)."""
