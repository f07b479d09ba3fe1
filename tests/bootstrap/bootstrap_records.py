"""bootstrap/ under the offline preview's mocks: its records, the layout its stack file configures,
and each identity's effective policies as AWS would combine them (conftest.py holds the fixtures;
the helpers live here so that `import` finds them whichever conftest pytest loaded first)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from tools.offline.records import Records, parse_json_input, stack_records

ROOT = Path(__file__).resolve().parents[2]
BOOTSTRAP = ROOT / "bootstrap"
if str(BOOTSTRAP) not in sys.path:
    sys.path.insert(0, str(BOOTSTRAP))

import access  # noqa: E402
from layout import Layout  # noqa: E402

NAMESPACE = "sagemaker-mlops-bootstrap"
MOCK_ACCOUNT = "123456789012"  # what the mocks answer for aws.get_caller_identity
OTHER_ACCOUNT = "210987654321"
ZONE = "Z0123456789ABCDEFGHIJ"


def stack_file() -> dict[str, Any]:
    return YAML(typ="safe").load((BOOTSTRAP / "Pulumi.github.yaml").read_text())["config"]


def shipped_layout() -> Layout:
    config = stack_file()
    return Layout(
        region=config["aws:region"],
        accounts={k: str(v) for k, v in config[f"{NAMESPACE}:accounts"].items()},
        repository=config[f"{NAMESPACE}:githubRepository"],
    )


def records(*overrides: str) -> Records:
    return stack_records("github", *overrides, program_dir=BOOTSTRAP)


@dataclass(frozen=True)
class Deployed:
    """What one layout's bootstrap stacks (one per account) declared, merged."""

    layout: Layout
    resources: list[dict[str, Any]]
    outputs: list[dict[str, Any]]

    def of_type(self, type_: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["type"] == type_]

    def role(self, key: str) -> dict[str, Any]:
        found = [r for r in self.of_type("aws:iam/role:Role") if r["name"] == f"github-{key}-role"]
        assert len(found) == 1, (key, len(found))
        return found[0]

    def trust(self, key: str) -> dict[str, Any]:
        return parse_json_input(self.role(key)["inputs"]["assumeRolePolicy"])

    def managed(self) -> dict[str, dict[str, Any]]:
        return {r["state"]["arn"]: parse_json_input(r["inputs"]["policy"]) for r in self.of_type("aws:iam/policy:Policy")}

    def policies(self, key: str) -> list[dict[str, Any]]:
        """The role's inline policy and every managed policy attached to it."""
        inline = [
            parse_json_input(r["inputs"]["policy"])
            for r in self.of_type("aws:iam/rolePolicy:RolePolicy")
            if r["name"] == f"github-{key}-policy"
        ]
        managed = self.managed()
        attached = [
            managed[a["inputs"]["policyArn"]]
            for a in self.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
            if a["name"].startswith(f"github-{key}-managed-")
        ]
        assert len(inline) == 1, key
        return inline + attached

    def boundary(self, stack: str) -> dict[str, Any]:
        found = [r for r in self.of_type("aws:iam/policy:Policy") if r["inputs"]["name"] == f"sagemaker-mlops-{stack}-boundary"]
        assert len(found) == 1, stack
        return parse_json_input(found[0]["inputs"]["policy"])


def deployed(layout: Layout, *extra: str) -> Deployed:
    """Runs bootstrap once per distinct account of the layout (as an administrator would)."""
    base = [f"accounts.{k}='{v}'" for k, v in layout.accounts.items()] + [f"githubRepository={layout.repository}"]
    base += [f"hostedZones.{s}={z}" for s, z in layout.hosted_zones.items()]
    resources: list[dict[str, Any]] = []
    outputs: list[dict[str, Any]] = []
    for account in sorted(set(layout.accounts.values())):
        recs = records(*base, f"account='{account}'", *extra)
        resources += recs.resources
        outputs.append(recs.outputs)
    return Deployed(layout, resources, outputs)


ONE_ACCOUNT = replace(shipped_layout(), hosted_zones={"prod": ZONE})
TWO_ACCOUNTS = replace(ONE_ACCOUNT, accounts={"dev": MOCK_ACCOUNT, "prod": OTHER_ACCOUNT, "state": MOCK_ACCOUNT})
IDENTITIES = access.identities()
