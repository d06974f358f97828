"""Ephemeral review environments: one Pulumi stack `review-pr-<n>` per pull request.

Run as `python -m tools.review <up|destroy|list|gc>`; see docs/review-environments.md.
Only `tools.review.backend` talks to Pulumi (through the Automation API); everything else is pure.
"""
