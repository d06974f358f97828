"""The Big Pods: the pods model (types), DreamScape's catalog (data), the blueprint and the renderers."""
