"""Runs the real Pulumi program under mocks and records what the engine would see.

Run as its own process per stack (`python -m tools.offline.program ...`) so that one stack's
runtime state (config, root resource, module caches) can never leak into another's. Exit codes:
0 recorded, 2 invalid configuration, 3 program error; the clear message goes to stderr and the
records to --out.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import runpy
import sys
import traceback
from dataclasses import asdict
from pathlib import Path

EXIT_OK, EXIT_CONFIG, EXIT_PROGRAM = 0, 2, 3


class ProgramFailed(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


def read_stack_outputs(specs: list[str]) -> dict[str, dict]:
    """`STACK=FILE` pairs -> {stack: outputs}; FILE holds what `pulumi stack output --json` prints."""
    outputs: dict[str, dict] = {}
    for spec in specs:
        stack, sep, path = spec.partition("=")
        if not sep or not stack or not path:
            raise ProgramFailed(EXIT_CONFIG, f"--stack-outputs {spec!r}: expected STACK=FILE, e.g. dev=dev-outputs.json")
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise ProgramFailed(EXIT_CONFIG, f"--stack-outputs {spec!r}: cannot read the outputs of stack '{stack}': {exc}") from None
        if not isinstance(data, dict):
            raise ProgramFailed(EXIT_CONFIG, f"--stack-outputs {spec!r}: expected a JSON object of output names to values")
        outputs[stack] = data
    return outputs


def run_program(
    program_dir: Path, stack: str, overrides: list[str], stack_outputs: dict[str, dict] | None = None, first_preview: bool = False
) -> dict:
    """Runs `program_dir/__main__.py` for `stack` under mocks; returns the records.

    `stack_outputs` answers the program's StackReferences, by referenced stack name.
    `first_preview`: the program runs as in a preview (dry run) of a stack none of whose resources
    exist yet, so their ids and computed outputs are unknown (tools.offline.mocks.AwsMocks).
    """
    # Imported here: the parent CLI process must stay free of Pulumi's runtime state.
    import pulumi
    from pulumi.runtime import config as runtime_config
    from pulumi.runtime import sync_await
    from pulumi.runtime.settings import get_root_resource
    from pulumi.runtime.stack import wait_for_rpcs

    from tools.offline.mocks import AwsMocks, MissingStackOutputs, RecordingMonitor
    from tools.offline.stack_files import StackFileError, apply_overrides, engine_config, project_name, stack_config

    try:
        project = project_name(program_dir)
        config = apply_overrides(stack_config(program_dir, stack), overrides, namespace=project)
    except StackFileError as exc:
        raise ProgramFailed(EXIT_CONFIG, str(exc)) from None

    region = str(config.get("aws:region") or "us-east-1")
    mocks = AwsMocks(region=region, stack_outputs=stack_outputs, first_preview=first_preview)
    monitor = RecordingMonitor(mocks)
    # The engine hands config to the program in PULUMI_CONFIG; clear anything inherited.
    os.environ.pop("PULUMI_CONFIG", None)
    runtime_config.set_all_config(engine_config(config), [])
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=first_preview, monitor=monitor)

    os.chdir(program_dir)  # the engine runs programs from the project directory
    sys.path.insert(0, str(program_dir))
    try:
        runpy.run_path(str(program_dir / "__main__.py"), run_name="__main__")
        sync_await._sync_await(wait_for_rpcs())
        # set_mocks registered the root stack before the program ran, so its exports were never
        # sent to the monitor: resolve them the way the engine would have received them.
        exported = pulumi.Output.from_input(get_root_resource().outputs).future()
        outputs = sync_await._sync_await(exported) or {}
    except pulumi.RunError as exc:
        code = EXIT_CONFIG if str(exc).startswith("invalid configuration") else EXIT_PROGRAM
        raise ProgramFailed(code, str(exc)) from None
    except Exception as exc:  # any program failure is reported, not raised
        missing = _cause(exc, MissingStackOutputs)
        if missing is not None:
            raise ProgramFailed(EXIT_CONFIG, str(missing)) from None
        detail = traceback.format_exc() if os.environ.get("PREVIEW_DEBUG") else f"{type(exc).__name__}: {exc}"
        raise ProgramFailed(EXIT_PROGRAM, f"the program failed: {detail}") from None

    return {
        "stack": stack,
        "project": project,
        "region": region,
        "config": config,
        "resources": [asdict(r) for r in monitor.records],
        "outputs": outputs,
    }


def _cause(exc: BaseException, kind: type) -> BaseException | None:
    """`exc` or the first exception of `kind` in its chain (the SDK wraps what a mock raises)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, kind):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def main(argv: list[str] | None = None) -> int:
    # A short-lived process that builds hundreds of thousands of long-lived objects (pulumi-aws's
    # classes, the program's resources and outputs) and little cyclic garbage: the collector's
    # passes over them were a third of its CPU time.
    gc.disable()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stack", required=True)
    parser.add_argument("--program-dir", type=Path, default=Path.cwd())
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--stack-outputs", action="append", default=[], metavar="STACK=FILE")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--first-preview", action="store_true")
    args = parser.parse_args(argv)
    try:
        records = run_program(
            args.program_dir.resolve(), args.stack, args.overrides, read_stack_outputs(args.stack_outputs), first_preview=args.first_preview
        )
    except ProgramFailed as failure:
        print(str(failure), file=sys.stderr)
        return failure.code
    args.out.write_text(json.dumps(records))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
