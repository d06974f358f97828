"""Check a running environment end to end from its stack outputs (`python -m tools.smoke --stack dev`)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from tools.runner import Command, CommandError, Runner, SubprocessRunner
from tools.smoke.access import Access, DockerAccess, KubernetesAccess, split_address
from tools.smoke.checks import Outputs, build_checks, report, run_checks


def read_outputs(stack: str, runner: Runner, outputs_file: Path | None) -> Outputs:
    if outputs_file is not None:
        return Outputs.parse(json.loads(outputs_file.read_text(encoding="utf-8")))
    text = runner.run(Command(("pulumi", "stack", "output", "--json", "--show-secrets", "--stack", stack)))
    return Outputs.parse(json.loads(text))


def access_for(outputs: Outputs, stack: str, namespace: str | None, runner: Runner) -> Access:
    if outputs.target == "docker":
        published = {name: split_address(address, 0) for name, address in outputs.endpoints.items()}
        return DockerAccess(stack, published)
    return KubernetesAccess(namespace or f"dreamscape-{outputs.environment}", runner)


def main(argv: Sequence[str] | None = None, runner: Runner | None = None, out: TextIO | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.smoke", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--stack", default="dev", help="the Pulumi stack to check (default: dev)")
    parser.add_argument("--outputs", type=Path, help="read the outputs from this JSON file instead of pulumi")
    parser.add_argument("--namespace", help="Kubernetes stacks: the namespace (default: dreamscape-<stack>)")
    parser.add_argument("--wait", type=float, default=0.0,
                        help="retry a failing check for up to this many seconds (a stack that just came up)")
    parser.add_argument("--insecure", action="store_true",
                        help="do not verify the edge's TLS certificate (a throwaway cluster without ACME)")
    parser.add_argument("--kafka-topic", help="topic of the Kafka round trip (default: the first topic)")
    args = parser.parse_args(argv)
    runner = runner or SubprocessRunner()
    out = out or sys.stdout
    try:
        outputs = read_outputs(args.stack, runner, args.outputs)
    except (CommandError, ValueError) as error:
        print(f"smoke {args.stack}: cannot read the stack outputs: {' '.join(str(error).split())}", file=out)
        return 2
    except FileNotFoundError as error:
        missing = (f"{args.outputs} does not exist" if args.outputs is not None else
                   f"{error.filename} is not installed (the Pulumi CLI: https://www.pulumi.com/docs/install/)")
        print(f"smoke {args.stack}: cannot read the stack outputs: {missing}", file=out)
        return 2
    except OSError as error:
        print(f"smoke {args.stack}: cannot read the stack outputs: {' '.join(str(error).split())}", file=out)
        return 2
    if outputs.environment != args.stack:
        print(f"smoke {args.stack}: the outputs are those of stack {outputs.environment!r}, not {args.stack!r}; "
              "nothing was checked (pass the right --stack or --outputs)", file=out)
        return 2
    access = access_for(outputs, args.stack, args.namespace, runner)
    print(f"smoke {outputs.environment} ({outputs.target}):", file=out, flush=True)
    try:
        results = run_checks(build_checks(outputs, access, runner, kafka_topic=args.kafka_topic,
                                          insecure=args.insecure), out,
                             wait=args.wait)
    finally:
        access.close()
    return report(results, out, outputs.environment)
