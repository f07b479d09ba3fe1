"""Run each mutant of a target against its tests, in a scratch copy of the checkout.

The working tree is never written: the copy holds the tracked and untracked-but-not-ignored files
as they are now (uncommitted edits included), each mutant is written into the copy, its test
command run there, and the original put back before the next one.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from tools.mutation.equivalents import reason_for
from tools.mutation.mutants import Mutant, mutants_of
from tools.mutation.targets import Target

KILLED, TIMEOUT, SURVIVED = "killed", "timeout", "survived"


class BaselineFailed(Exception):
    """The unmutated copy fails the target's tests: no mutant of it can say anything."""


@dataclass
class Outcome:
    mutant: Mutant
    status: str
    seconds: float
    equivalent: Optional[str] = None  # the documented reason, for a survivor listed as equivalent
    failed: str = ""  # the tests that failed, for a killed mutant


@dataclass
class TargetRun:
    target: Target
    command: str
    total: int  # mutants the target has
    baseline_seconds: float
    outcomes: list[Outcome] = field(default_factory=list)
    interrupted: bool = False

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)

    @property
    def detected(self) -> int:
        return self.count(KILLED) + self.count(TIMEOUT)

    @property
    def survivors(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == SURVIVED]

    @property
    def score(self) -> Optional[float]:
        """Detected mutants out of those run, the ones documented as equivalent left out."""
        judged = len(self.outcomes) - sum(o.equivalent is not None for o in self.survivors)
        return self.detected / judged if judged else None


def scratch_copy(root: Path) -> Path:
    """A copy of the checkout's files (tracked, and untracked ones git does not ignore)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root, check=True, capture_output=True
    ).stdout.decode()
    scratch = Path(tempfile.mkdtemp(prefix="mutation-"))
    for name in filter(None, listed.split("\0")):
        source = root / name
        if source.is_file():  # a tracked file deleted in the working tree is left out
            (scratch / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, scratch / name)
    return scratch


def run_tests(command: list[str], cwd: Path, timeout: float) -> tuple[str, float, str]:
    """(status, seconds, what failed: pytest's FAILED/ERROR lines, for a killed mutant)."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}  # a stale .pyc of a same-sized mutant must not be reused
    started = time.monotonic()
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the test run and whatever it started (the pack's analyzer)
            process.wait()
            return TIMEOUT, time.monotonic() - started, ""
        except KeyboardInterrupt:  # its own session: Ctrl-C does not reach it
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
        output.seek(0)
        lines = output.read().decode("utf-8", "replace").splitlines()
    failed = "; ".join(line for line in lines if line.startswith(("FAILED ", "ERROR "))) or (lines[-1] if lines else "")
    return (SURVIVED if code == 0 else KILLED), time.monotonic() - started, "" if code == 0 else failed[:500]


def pick(mutants: list[Mutant], limit: Optional[int]) -> list[Mutant]:
    """At most `limit` mutants, spread evenly over the file(s) rather than the first ones."""
    if limit is None or limit >= len(mutants):
        return mutants
    step = len(mutants) / limit
    return [mutants[int(i * step)] for i in range(limit)]


def run_target(
    target: Target,
    scratch: Path,
    limit: Optional[int] = None,
    timeout: Optional[float] = None,
    progress: Callable[[str], None] = lambda _: None,
    only: Optional[set[tuple[str, str, str]]] = None,
) -> TargetRun:
    files = sorted({str(p.relative_to(scratch)) for pattern in target.files for p in scratch.glob(pattern)})
    if not files:
        raise ValueError(f"target {target.name}: no file matches {', '.join(target.files)}")
    if target.functions and len(files) > 1:
        raise ValueError(f"target {target.name}: `functions` narrows one file, not {len(files)}")
    mutants = [m for f in files for m in mutants_of(scratch, f, target.functions)]
    command = [sys.executable, *target.command()[1:]]
    status, baseline, failed = run_tests(command, scratch, timeout or 600)
    if status != SURVIVED:
        raise BaselineFailed(
            f"target {target.name}: `{' '.join(target.command())}` does not pass on the unmutated copy ({status}: {failed})"
        )
    bound = timeout or max(60.0, 3 * baseline)
    if only is not None:  # a previous run's survivors: (path, line before, line after), trimmed
        mutants = [m for m in mutants if (m.path, m.original.strip(), m.mutated.strip()) in only]
    chosen = pick(mutants, limit)
    result = TargetRun(target, " ".join(target.command()), len(mutants), baseline)
    for number, mutant in enumerate(chosen, 1):
        path = scratch / mutant.path
        original = path.read_text()
        path.write_text(mutant.source)
        try:
            status, seconds, failed = run_tests(command, scratch, bound)
        except KeyboardInterrupt:  # Ctrl-C: report what has run (the mutant in flight is not counted)
            result.interrupted = True
            return result
        finally:
            path.write_text(original)
        outcome = Outcome(mutant, status, seconds, reason_for(mutant) if status == SURVIVED else None, failed)
        result.outcomes.append(outcome)
        progress(f"[{target.name} {number}/{len(chosen)}] {status:8} {seconds:5.1f}s {mutant.where} {mutant.change}  {failed}".rstrip())
    return result
