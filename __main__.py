"""DreamScape environments: load the stack config, build the environment, export what people need."""

import pulumi

from components.config import load, secrecy
from components.environment import Environment

config = load()
# Before any resource: nothing derived from a `--secret` config key is ever sent in plain text.
secrecy.install(config.secret_values)
environment = Environment(pulumi.get_stack(), config)
# Stack outputs are no resource inputs, so the transformation above does not see them: mark them here.
for key, value in environment.outputs.items():
    pulumi.export(key, secrecy.mark(value, config.secret_values))
