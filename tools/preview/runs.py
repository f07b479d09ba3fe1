"""Runs the stacks' programs under mocks (each once, after the stacks it references) and has the
policy pack judge each stack's records."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import traceback
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Optional

from tools.offline.analyzer import PolicyPackError, StackResource, analyze_stack
from tools.offline.program_server import ProgramServer
from tools.offline.stack_files import StackFileError, apply_overrides, engine_config, project_name, referenced_stacks, stack_config
from tools.preview.result import StackPreview
from tools.repository import ROOT


class ProgramRuns:
    """Runs each stack's program once, after the programs of the stacks it references.

    A stack's StackReferences read the outputs given with --stack-outputs, or else the outputs of
    that stack's own program run (started on demand, shared by every stack that needs it). With
    --first-preview, a referenced stack is one that exists (its outputs are known): its outputs come
    from a run of its program as deployed.
    """

    def __init__(self, args: argparse.Namespace, stack_outputs: dict[str, Path], previewed: Optional[list[str]] = None):
        self.args = args
        self.stack_outputs = stack_outputs
        # --set overrides apply to the stacks being previewed; a stack run only for its outputs
        # runs as shipped.
        self.previewed = set(previewed or [])
        self.project = project_name(args.program_dir)
        self._lock = threading.Lock()
        self._runs: dict[tuple[str, bool], Future] = {}
        # One thread per program: a run blocks only on the runs of the stacks it references.
        self._pool = ThreadPoolExecutor(max_workers=8)
        self._server: Optional[ProgramServer] = None

    def overrides(self, stack: str) -> list[str]:
        return list(self.args.overrides) if stack in self.previewed else []

    def references(self, stack: str) -> list[str]:
        config = apply_overrides(stack_config(self.args.program_dir, stack), self.overrides(stack), namespace=self.project)
        return referenced_stacks(config, self.project)

    def check_cycles(self, stacks: list[str]) -> None:
        def visit(stack: str, path: tuple[str, ...]) -> None:
            if stack in path:
                raise StackFileError(f"stack references form a cycle: {' -> '.join((*path, stack))} (registry.stack)")
            if stack in self.stack_outputs or not (self.args.program_dir / f"Pulumi.{stack}.yaml").exists():
                return
            try:
                references = self.references(stack)
            except StackFileError:
                return  # the stack's own run reports it, as its error
            for ref in references:
                if ref != stack:  # a stack naming itself is the program's config error to report
                    visit(ref, (*path, stack))

        for stack in stacks:
            visit(stack, ())

    def records(self, stack: str, first_preview: Optional[bool] = None) -> Future:
        key = (stack, self.args.first_preview if first_preview is None else first_preview)
        with self._lock:
            if key not in self._runs:
                self._runs[key] = self._pool.submit(self._run, *key)
            return self._runs[key]

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        if self._server is not None:
            self._server.close()

    def _execute(self, command: list[str], env: dict[str, str], stderr_path: Path) -> int:
        """Runs `python -m tools.offline.program ...`: in a child forked from one process that has
        imported the libraries once (tools.offline.program_server), or where there is no fork, in
        its own interpreter."""
        if not hasattr(os, "fork"):
            with stderr_path.open("w") as stderr:
                return subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr).returncode
        with self._lock:
            if self._server is None:
                self._server = ProgramServer(self.args.program_dir, ROOT, env)
        return self._server.run(command[3:], stderr_path)

    def _run(self, stack: str, first_preview: bool) -> tuple[Optional[dict[str, Any]], Optional[str]]:
        """(records, None) or (None, the error message)."""
        args = self.args
        with tempfile.TemporaryDirectory(prefix=f"preview-{stack}-") as tmp:
            out = Path(tmp) / "records.json"
            command = [
                sys.executable,
                "-m",
                "tools.offline.program",
                "--stack",
                stack,
                "--program-dir",
                str(args.program_dir),
                "--out",
                str(out),
            ]
            for override in self.overrides(stack):
                command += ["--set", override]
            if first_preview:
                command.append("--first-preview")
            try:
                references = self.references(stack)
            except StackFileError as exc:  # reported like any invalid config of this stack
                return None, str(exc)
            for ref in references:
                if ref == stack:
                    continue
                if ref in self.stack_outputs:
                    command += ["--stack-outputs", f"{ref}={self.stack_outputs[ref]}"]
                    continue
                if not (args.program_dir / f"Pulumi.{ref}.yaml").exists():
                    continue  # the program itself reports the reference it cannot resolve
                records, error = self.records(ref, first_preview=False).result()
                if error is not None:
                    return None, f"stack '{ref}', whose outputs this stack reads, failed:\n{error}"
                outputs_file = Path(tmp) / f"outputs-{ref}.json"
                outputs_file.write_text(json.dumps(records["outputs"]))
                command += ["--stack-outputs", f"{ref}={outputs_file}"]
            env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
            if args.debug:
                env["PREVIEW_DEBUG"] = "1"
            stderr_path = Path(tmp) / "stderr.txt"
            code = self._execute(command, env, stderr_path)
            if code != 0:
                stderr = stderr_path.read_text().strip() if stderr_path.exists() else ""
                return None, stderr or f"the program exited with code {code}"
            return json.loads(out.read_text()), None


def run_stack(stack: str, args: argparse.Namespace, programs: Optional[ProgramRuns] = None) -> StackPreview:
    preview = StackPreview(stack)
    programs = programs or ProgramRuns(args, {}, [stack])
    records, error = programs.records(stack).result()
    if error is not None:
        preview.error = error
        return preview
    preview.records = records

    policy_config_path = args.policy_config or (args.policy_pack / "config" / f"{stack}.json")
    policy_config = None
    if args.policy_config or policy_config_path.exists():
        preview.policy_config_path = policy_config_path
        try:
            policy_config = json.loads(policy_config_path.read_text())
        except (OSError, ValueError) as exc:
            preview.error = f"cannot read policy config {policy_config_path}: {exc}"
            return preview

    resources = [
        StackResource(
            urn=r["urn"],
            type=r["type"],
            name=r["name"],
            parent=r["parent"],
            inputs=r["inputs"],
            state=r["state"],
            options=r["options"],
            provider=r["provider"],
            custom=r["custom"],
            dependencies=r["dependencies"],
            property_dependencies=r["property_dependencies"],
        )
        for r in preview.records["resources"]
    ]
    try:
        preview.analysis = analyze_stack(
            args.policy_pack,
            preview.records["project"],
            stack,
            engine_config(preview.records["config"]),
            resources,
            policy_config,
        )
    except PolicyPackError as exc:
        preview.error = f"{exc}\n{traceback.format_exc()}" if args.debug else str(exc)
    return preview
