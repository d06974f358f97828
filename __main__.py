"""DreamScape stacks: load the stack config, build its program (an environment or a k3s cluster), export
what people need."""

import pulumi

from components import program
from components.config import load, secrecy

config = load()
# Before any resource: nothing derived from a `--secret` config key is ever sent in plain text.
secrecy.install(config.secret_values)
built = program.build(pulumi.get_stack(), config)
# Stack outputs are no resource inputs, so the transformation above does not see them: mark them here.
for key, value in built.outputs.items():
    pulumi.export(key, secrecy.mark(value, config.secret_values))
