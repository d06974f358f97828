"""DreamScape environments: load the stack config, build the environment, export what people need."""

import pulumi

from components.config import load
from components.environment import Environment

config = load()
environment = Environment(pulumi.get_stack(), config)
for key, value in environment.outputs.items():
    pulumi.export(key, value)
