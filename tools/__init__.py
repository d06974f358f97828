"""Command-line helpers for DreamScape environments (review environments, resets, backups)."""
