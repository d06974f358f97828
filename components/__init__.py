"""DreamScape Big Pods: Pulumi components (see DEVELOPERS.md for the layout)."""
