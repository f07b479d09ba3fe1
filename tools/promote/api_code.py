"""What code the prediction API serves, and where Git has it: the API half of `--restore`.

The `live` alias serves one Lambda version, and that version's description names the digest of its
code (components/api/function_package.py). When it is not the code of `containers/api` at HEAD and
CodeDeploy rolled back the release of HEAD's code (a Stopped or Failed deployment from the version
that serves, to a version running HEAD's code), the commit whose `containers/api` has the serving
digest is found in Git history (commits touching the folder, newest first, read with `git ls-tree`
and `git cat-file`, no checkout) and the folder is written back to that commit's content.

Not every difference is a rollback: prod's alias lags HEAD until its deploy is approved, and a
release that has not run yet is no reason to revert anything. Without a rolled-back release of
HEAD's code nothing is restored (a note says why); a digest the history does not hold is refused,
never guessed.
"""

from __future__ import annotations

import os
import stat
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

from components.api.function_package import API_SOURCE_DIR, code_digest, described_digest
from components.api.lambda_release import FAILED_STATUSES
from components.api.release_spec import ReleaseSpec, appspec_properties, failure_message
from tools.promote.stack_file import CheckFailed, PromoteError

SYMLINK_MODE, EXECUTABLE_MODE = "120000", "100755"
EARLIEST = datetime.min.replace(tzinfo=timezone.utc)  # botocore's times are timezone-aware


@dataclass(frozen=True)
class ApiNames:
    """The stack's prediction API as CodeDeploy releases it (stack outputs, else the program's names)."""

    function: str
    alias: str
    application: str
    deployment_group: str
    region: str

    @property
    def label(self) -> str:
        return f"{self.function}:{self.alias}"


@dataclass(frozen=True)
class Commit:
    sha: str
    date: str
    subject: str


@dataclass(frozen=True)
class RolledBack:
    """The CodeDeploy deployment that tried to move the alias off the serving version and failed."""

    deployment_id: str
    target_version: str
    account: str
    """CodeDeploy's own words (components/api/release_spec.failure_message)."""


@dataclass(frozen=True)
class ApiRollback:
    """A rolled-back release of HEAD's code: what serves, the commit that holds it, why."""

    names: ApiNames
    version: str
    digest: str
    head_digest: str
    commit: Commit
    deployment: RolledBack
    alarm_names: tuple[str, ...]
    """The deployment group's alarms (the one that fired is named by rollback.fired_alarm)."""


# ---- Git: a folder's files at a revision, without a checkout ---------------------------------------


def _git(repo: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=repo, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        raise PromoteError(f"git {' '.join(args)} in {repo}: {exc}") from None
    if done.returncode != 0:
        raise PromoteError(f"git {' '.join(args)} in {repo}: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout


@dataclass(frozen=True)
class _Entry:
    mode: str
    blob: str


def tree(repo: Path, revision: str, folder: str = API_SOURCE_DIR) -> dict[str, _Entry]:
    """The files under `folder` at `revision`: name relative to the folder -> mode and blob."""
    listed = _git(repo, "ls-tree", "-r", "-z", revision, "--", folder).decode("utf-8")
    entries = {}
    for record in filter(None, listed.split("\0")):
        meta, path = record.split("\t", 1)
        mode, kind, blob = meta.split()
        if kind == "blob":
            entries[path[len(folder) + 1 :]] = _Entry(mode, blob)
    return entries


class _Blobs:
    """Blob contents by id, each read once (unchanged files share their blob across commits)."""

    def __init__(self, repo: Path) -> None:
        self._repo = repo
        self._read: dict[str, bytes] = {}

    def __call__(self, blob: str) -> bytes:
        if blob not in self._read:
            self._read[blob] = _git(self._repo, "cat-file", "blob", blob)
        return self._read[blob]


def tree_digest(repo: Path, revision: str, blobs: Optional[_Blobs] = None, folder: str = API_SOURCE_DIR) -> str:
    """The code digest of `folder` at `revision`, as the program computes it from a checkout."""
    read = blobs or _Blobs(repo)
    return code_digest({name: read(entry.blob) for name, entry in tree(repo, revision, folder).items()})


def commit_with_digest(repo: Path, digest: str, folder: str = API_SOURCE_DIR) -> Optional[Commit]:
    """The newest commit touching `folder` whose content there has `digest`, or None."""
    log = _git(repo, "log", "--format=%H%x1f%cI%x1f%s%x1e", "--", folder).decode("utf-8")
    blobs = _Blobs(repo)
    for record in filter(None, (r.strip() for r in log.split("\x1e"))):
        sha, date, subject = record.split("\x1f", 2)
        if tree_digest(repo, sha, blobs, folder) == digest:
            return Commit(sha, date, subject)
    return None


def _holds(path: Path, entry: _Entry, content: bytes) -> bool:
    """The working tree already has this entry: same link target, or same bytes and executable bit."""
    if entry.mode == SYMLINK_MODE:
        return path.is_symlink() and os.readlink(path) == content.decode()
    if path.is_symlink() or not path.is_file():
        return False
    return path.read_bytes() == content and bool(path.stat().st_mode & stat.S_IXUSR) == (entry.mode == EXECUTABLE_MODE)


def restore_folder(repo: Path, sha: str, folder: str = API_SOURCE_DIR) -> list[str]:
    """Write `folder` in the working tree back to its content at `sha`: files HEAD tracks there that
    `sha` lacks are deleted, the others written with their bytes and mode. Returns what changed."""
    wanted, tracked = tree(repo, sha, folder), tree(repo, "HEAD", folder)
    blobs, root, changed = _Blobs(repo), repo / folder, []
    if not root.resolve().is_relative_to(repo.resolve()):
        # A linked folder (the rehearsal links the real tree): writing through it would change another checkout.
        raise PromoteError(f"{root} resolves to {root.resolve()}, outside {repo}: not written")
    for name in sorted(set(tracked) - set(wanted)):
        path = root / name
        if path.is_symlink() or path.exists():
            path.unlink()
            changed.append(f"deleted {folder}/{name}")
        for parent in path.parents:
            if parent == root or not parent.is_dir() or any(parent.iterdir()):
                break
            parent.rmdir()
    for name, entry in sorted(wanted.items()):
        path, content = root / name, blobs(entry.blob)
        if _holds(path, entry, content):
            continue
        existed = path.is_symlink() or path.exists()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        if entry.mode == SYMLINK_MODE:
            path.symlink_to(content.decode())
        else:
            path.write_bytes(content)
            path.chmod(0o755 if entry.mode == EXECUTABLE_MODE else 0o644)
        changed.append(f"{'restored' if existed else 'added back'} {folder}/{name}")
    return changed


# ---- AWS: what the alias serves and the release that was rolled back ---------------------------------


def version_digest(lambda_: Any, function: str, version: str) -> Optional[str]:
    described = lambda_.get_function_configuration(FunctionName=function, Qualifier=version)
    return described_digest(described.get("Description"))


def rolled_back_release(codedeploy: Any, names: ApiNames, version: str) -> Optional[RolledBack]:
    """The newest Stopped or Failed deployment of the group that shifted the alias from `version`."""
    newest: Optional[tuple[datetime, RolledBack]] = None
    pages = codedeploy.get_paginator("list_deployments").paginate(
        applicationName=names.application, deploymentGroupName=names.deployment_group, includeOnlyStatuses=list(FAILED_STATUSES)
    )
    for deployment_id in (i for page in pages for i in page.get("deployments", [])):
        info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        props = appspec_properties(info) or {}
        if (str(props.get("Name")), str(props.get("Alias")), str(props.get("CurrentVersion"))) != (names.function, names.alias, version):
            continue
        target = str(props.get("TargetVersion"))
        spec = ReleaseSpec(names.application, names.deployment_group, names.function, names.alias, target, names.region)
        found = RolledBack(deployment_id, target, failure_message(info, spec, version))
        created = info.get("createTime") or EARLIEST
        if newest is None or created > newest[0]:
            newest = (created, found)
    return newest[1] if newest else None


def group_alarms(codedeploy: Any, names: ApiNames, account: str) -> tuple[str, ...]:
    """The deployment group's alarms; those CodeDeploy's account of the failure names, when it names any."""
    group = codedeploy.get_deployment_group(applicationName=names.application, deploymentGroupName=names.deployment_group)
    configured = [a["name"] for a in (group["deploymentGroupInfo"].get("alarmConfiguration") or {}).get("alarms", [])]
    return tuple(a for a in configured if a in account) or tuple(configured)


def find_rollback(repo: Path, lambda_: Any, codedeploy: Any, names: ApiNames) -> tuple[Optional[ApiRollback], str]:
    """(the rolled-back release to restore, or None; one line saying what was found).

    CheckFailed when a release of HEAD's code was rolled back but the code that serves cannot be
    named: its version's description carries no digest, or no commit has it."""
    alias = lambda_.get_alias(FunctionName=names.function, Name=names.alias)
    version = str(alias["FunctionVersion"])
    weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    if weights:
        return None, f"{names.label}: a CodeDeploy release is shifting traffic ({version} and {weights}); the API is not compared now"
    head = tree_digest(repo, "HEAD")
    digest = version_digest(lambda_, names.function, version)
    if digest == head:
        return None, f"{names.label}: version {version} runs the code of {API_SOURCE_DIR} at HEAD; nothing to restore"
    release = rolled_back_release(codedeploy, names, version)
    target = version_digest(lambda_, names.function, release.target_version) if release else None
    if release is None or target != head:
        return None, (
            f"{names.label}: version {version} does not run HEAD's code, but no release of HEAD's code was rolled back"
            f"{f' (the newest rolled back, {release.deployment_id}, was of other code)' if release else ''}: "
            "its deploy has not run yet; nothing to restore"
        )
    if digest is None:
        raise CheckFailed(
            f"{names.label} serves version {version}, whose description names no code digest (published before descriptions "
            f"carried one): which commit's code serves cannot be told, so {API_SOURCE_DIR} is not restored. "
            f"{release.account}"
        )
    commit = commit_with_digest(repo, digest)
    if commit is None:
        shallow = _git(repo, "rev-parse", "--is-shallow-repository").strip() == b"true"
        raise CheckFailed(
            f"{names.label} serves version {version} with code sha256:{digest}, which no commit touching {API_SOURCE_DIR} "
            f"holds on this branch: {API_SOURCE_DIR} is not restored "
            f"({'the clone is shallow: check out the full history (fetch-depth: 0)' if shallow else 'deployed from another branch or a local change?'}). "
            f"{release.account}"
        )
    alarms = group_alarms(codedeploy, names, release.account)
    found = ApiRollback(names, version, digest, head, commit, release, alarms)
    return found, f"{names.label}: version {version} runs the code of {commit.sha[:12]}; the release of HEAD's code was rolled back"
