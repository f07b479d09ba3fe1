"""A private ECR repository and an image built from a folder of this repo, pinned by digest."""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker

# Files that change nothing in the image: left out of the content hash (and of the build context
# by each folder's .dockerignore).
_IGNORED_PARTS = {"__pycache__", ".pytest_cache", ".hypothesis", ".venv", "venv", "node_modules"}


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as Docker's matcher (moby/patternmatcher) reads it: `**` spans
    directories, `*` and `?` stay within one path segment."""
    out, i = "", 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):
                out, i = out + "(?:.*/)?", i + 1
            else:
                out += ".*"
            continue
        if char == "*":
            out += "[^/]*"
        elif char == "?":
            out += "[^/]"
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            out += re.escape(pattern[i])
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out += re.escape(char)
            else:
                body = pattern[i + 1 : end]
                out += "[" + ("^" + body[1:] if body.startswith("!") else body) + "]"
                i = end
        else:
            out += re.escape(char)
        i += 1
    return re.compile(f"^{out}$")


def dockerignore_filter(ignore_file: Path) -> Callable[[str], bool]:
    """`included(relative_posix_path)` for a .dockerignore file: the last matching pattern wins, `!`
    re-includes, and a pattern that matches a parent directory matches everything below it."""
    patterns: list[tuple[bool, re.Pattern[str]]] = []
    for line in ignore_file.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        exclusion = line.startswith("!")
        body = os.path.normpath(line[1:].strip() if exclusion else line).lstrip("/")
        patterns.append((exclusion, _pattern_regex(Path(body).as_posix())))

    def included(path: str) -> bool:
        parts = path.split("/")
        candidates = [path] + ["/".join(parts[:n]) for n in range(1, len(parts))]
        excluded = False
        for exclusion, regex in patterns:
            # An exclusion only matters once the path is excluded, an inclusion only while it is not.
            if exclusion != excluded:
                continue
            if any(regex.match(candidate) for candidate in candidates):
                excluded = not exclusion
        return not excluded

    return included


def context_hash(context: Path, ignore_file: Optional[Path] = None) -> str:
    """A short hash of every file in the build context, so the tag changes exactly when the image does.

    With `ignore_file` (a Dockerfile-specific `<Dockerfile>.dockerignore`), only the files it lets
    into the context count, plus the Dockerfile itself (Docker always sends it): a context shared
    by several images then changes an image's tag only when that image's inputs change.
    """
    included = dockerignore_filter(ignore_file) if ignore_file is not None else (lambda _path: True)
    files = {
        p.relative_to(context).as_posix(): p
        for p in context.rglob("*")
        if p.is_file() and not _IGNORED_PARTS & set(p.relative_to(context).parts) and included(p.relative_to(context).as_posix())
    }
    if ignore_file is not None:
        dockerfile = ignore_file.with_name(ignore_file.name.removesuffix(".dockerignore"))
        for build_file in (dockerfile, ignore_file):
            files[os.path.relpath(build_file, context).replace(os.sep, "/")] = build_file
    digest = hashlib.sha256()
    for relative, path in sorted(files.items()):
        digest.update(relative.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class ContainerImageArgs:
    repository_name: str
    context: str
    """Build context, relative to the project directory."""
    kms_key_arn: pulumi.Input[str]
    dockerfile: Optional[str] = None
    """Relative to the project directory; default `<context>/Dockerfile`. A `<dockerfile>.dockerignore`
    beside it limits the files that make up the image's content hash (see `context_hash`)."""
    untagged_days: int = 7
    """Untagged images (left by an interrupted push) are expired after this many days."""
    force_delete: bool = False
    platform: str = "linux/amd64"


class ContainerImage(pulumi.ComponentResource):
    repository: aws.ecr.Repository
    image_uri: pulumi.Output[str]
    """`<registry>/<repository>@sha256:<digest>`: what every consumer must reference."""
    tag: str

    def __init__(self, name: str, args: ContainerImageArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("sagemaker-mlops:images:ContainerImage", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.repository = aws.ecr.Repository(
            f"{name}-repo",
            name=args.repository_name,
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
            encryption_configurations=[aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS", kms_key=args.kms_key_arn)],
            force_delete=args.force_delete,
            opts=child,
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle",
            repository=self.repository.name,
            policy=json.dumps(
                {
                    # Tagged images are never expired: a registered model version (or an ECS rollback
                    # target) references its image by digest, possibly for years, and ECR cannot tell
                    # which tags a model package names. Tags are content hashes, so a rebuild of
                    # unchanged code pushes nothing and the repository grows only with real changes.
                    "rules": [
                        {
                            "rulePriority": 1,
                            "description": f"expire untagged images after {args.untagged_days} days",
                            "selection": {
                                "tagStatus": "untagged",
                                "countType": "sinceImagePushed",
                                "countUnit": "days",
                                "countNumber": args.untagged_days,
                            },
                            "action": {"type": "expire"},
                        }
                    ]
                }
            ),
            opts=child,
        )

        dockerfile = args.dockerfile or f"{args.context}/Dockerfile"
        ignore_file = Path(os.getcwd()) / f"{dockerfile}.dockerignore"
        self.tag = context_hash(Path(os.getcwd()) / args.context, ignore_file if ignore_file.is_file() else None)
        token = aws.ecr.get_authorization_token_output(
            registry_id=self.repository.registry_id, opts=pulumi.InvokeOutputOptions(parent=self)
        )
        image = docker.Image(
            f"{name}-image",
            image_name=pulumi.Output.concat(self.repository.repository_url, ":", self.tag),
            build=docker.DockerBuildArgs(context=args.context, dockerfile=dockerfile, platform=args.platform),
            registry=docker.RegistryArgs(
                server=self.repository.repository_url, username=token.user_name, password=pulumi.Output.secret(token.password)
            ),
            opts=child,
        )
        # repo_digest is "<repository>@sha256:<digest>": immutable, unlike any tag.
        self.image_uri = image.repo_digest
        self.register_outputs({"repository_url": self.repository.repository_url, "image_uri": self.image_uri})
