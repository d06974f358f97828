"""DreamScape environments as code: components of the Pulumi program."""
