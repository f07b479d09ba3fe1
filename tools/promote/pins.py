"""Refuse a change that moves the dev and the prod pin together.

    python -m tools.promote.pins BASE [HEAD]      (Git revisions; HEAD defaults to HEAD)

prod may only take what dev served and soaked: a commit (or a pull request, which a squash merge
makes one commit) that changes both `endpoint.modelPackageVersion` pins skips the soak. Exit 0 when
no commit and not the whole range moves both pins; 1, naming the commit, when one does; 2 when Git
cannot answer.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Optional

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from tools.promote.stack_file import ENDPOINT_KEY, VERSION_KEY

STACKS = ("dev", "prod")


def _git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def pin_at(cwd: Path, revision: str, stack: str) -> Optional[object]:
    """The pin in Pulumi.<stack>.yaml at `revision` (None: no file, no endpoint or no pin)."""
    shown = _git(cwd, "show", f"{revision}:Pulumi.{stack}.yaml")
    if shown.returncode != 0:
        return None
    try:
        endpoint = ((YAML(typ="safe").load(shown.stdout) or {}).get("config") or {}).get(ENDPOINT_KEY) or {}
    except YAMLError:
        return "(unparseable)"
    return endpoint.get(VERSION_KEY) if isinstance(endpoint, dict) else None


def moved(cwd: Path, before: str, after: str) -> list[str]:
    return [s for s in STACKS if pin_at(cwd, before, s) != pin_at(cwd, after, s)]


def problems(cwd: Path, base: str, head: str = "HEAD") -> list[str]:
    listed = _git(cwd, "rev-list", "--reverse", f"{base}..{head}")
    if listed.returncode != 0:
        raise RuntimeError(f"git rev-list {base}..{head}: {listed.stderr.strip()}")
    found = []
    for sha in listed.stdout.split():
        parent = _git(cwd, "rev-parse", "--verify", "--quiet", f"{sha}^").stdout.strip() or base
        if moved(cwd, parent, sha) == list(STACKS):
            found.append(f"commit {sha[:12]} changes both the dev and the prod pin ({ENDPOINT_KEY}.{VERSION_KEY})")
    merge_base = _git(cwd, "merge-base", base, head).stdout.strip() or base
    if not found and moved(cwd, merge_base, head) == list(STACKS):
        found.append(f"the change {base}..{head} moves both the dev and the prod pin (a squash merge would make it one commit)")
    return found


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.promote.pins", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("base", help="the base revision (the pull request's base)")
    parser.add_argument("head", nargs="?", default="HEAD", help="the head revision (default HEAD)")
    parser.add_argument("--repo", type=Path, default=Path.cwd(), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        found = problems(args.repo, args.base, args.head)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in found:
        print(
            f"refused: {line}: pin dev first, let it soak, then promote to prod (python -m tools.promote --to prod --soak)", file=sys.stderr
        )
    if not found:
        print(f"ok: no commit in {args.base}..{args.head} moves both pins")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
