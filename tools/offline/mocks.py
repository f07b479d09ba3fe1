"""Pulumi mocks that answer like AWS would, and a monitor that records what the program declares.

Outputs are plausible (ARNs with the stack's account and region, ids with the right prefixes, DNS
names, URLs) and deterministic: derived from a hash of the resource's type and name, so two runs
of the same program give the same preview. The per-type outputs are in tools.offline.outputs,
the invokes' answers in tools.offline.invokes, the recording monitor in tools.offline.recording.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from pulumi.output import Unknown
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs, Mocks
from pulumi.runtime.rpc import UNKNOWN

from tools.offline.invokes import answer_invoke
from tools.offline.outputs import EC2_ID_PREFIX, OUTPUTS_BY_TYPE, digest
from tools.offline.recording import RecordingMonitor, ResourceRecord

__all__ = ["ACCOUNT_ID", "STACK_REFERENCE", "AwsMocks", "MissingStackOutputs", "RecordingMonitor", "ResourceRecord", "referenced_stack"]

ACCOUNT_ID = "123456789012"
STACK_REFERENCE = "pulumi:pulumi:StackReference"


class MissingStackOutputs(Exception):
    """A StackReference names a stack whose outputs the offline run was not given."""


def referenced_stack(name: str) -> str:
    """`org/project/stack`, `project/stack` or `stack` -> `stack`."""
    return name.rsplit("/", 1)[-1]


# What a provider knows about a resource it has not created yet: its checked inputs, including the
# names it generates in Check (auto-names). Everything else it reports only once it exists.
_KNOWN_BEFORE_CREATE = ("name", "bucket", "tagsAll")


class AwsMocks(Mocks):
    """Answers resource registrations and invokes for pulumi-aws, pulumi-docker and friends.

    With `first_preview`, answers as the engine does in a preview of resources that do not exist
    yet (a first `pulumi preview`, or a rebuilt image): the id and every output the provider would
    compute are unknown; inputs and auto-names are known. Invokes and stack references still answer
    (they read what exists).
    """

    def __init__(
        self,
        region: str,
        account_id: str = ACCOUNT_ID,
        stack_outputs: Optional[Mapping[str, Mapping[str, Any]]] = None,
        first_preview: bool = False,
    ):
        self.region = region
        self.account_id = account_id
        # Outputs of other stacks, by stack name, that StackReferences read (`pulumi stack output --json`).
        self.stack_outputs = dict(stack_outputs or {})
        self.first_preview = first_preview

    # ---- invokes -------------------------------------------------------------------------------
    def call(self, args: MockCallArgs):
        return answer_invoke(args, self.region, self.account_id)

    # ---- resources -----------------------------------------------------------------------------
    def new_resource(self, args: MockResourceArgs):
        if args.typ == STACK_REFERENCE:
            return self._stack_reference(args.inputs.get("name") or args.name)
        if not self.first_preview or args.typ.startswith("pulumi:providers:"):
            return self._created(args, dict(args.inputs))
        # Only the keys of what the resource would report matter: compute it from placeholders.
        _, created = self._created(args, _placeholders(dict(args.inputs)))
        unknown = {k: v if k in _KNOWN_BEFORE_CREATE else UNKNOWN for k, v in created.items() if k not in args.inputs}
        return "", {**args.inputs, **unknown}

    def _created(self, args: MockResourceArgs, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The id and state AWS reports once the resource exists."""
        module, kind = _module_and_kind(args.typ)
        h = digest(args.typ, args.name)
        region = inputs.get("region") or self.region
        physical = inputs.get("name") or f"{args.name}-{h[:7]}"
        state: dict[str, Any] = {**inputs}
        if module != "ec2":  # EC2 resources have no name property, only a Name tag
            state.setdefault("name", physical)
        resource_id = physical
        arn = f"arn:aws:{module}:{region}:{self.account_id}:{kind.lower()}/{physical}"

        special = OUTPUTS_BY_TYPE.get(args.typ)
        if special is not None:
            extra, resource_id, arn = special(self, args, inputs, h, region, physical)
            state.update(extra)
        elif module == "ec2":
            resource_id = f"{EC2_ID_PREFIX.get(kind, kind.lower()[:4])}-{h[:17]}"
        if args.typ.startswith("aws:") and arn is not None:
            state.setdefault("arn", arn)
        if args.typ.startswith("aws:") and "tags" in inputs:
            state.setdefault("tagsAll", inputs["tags"])
        return resource_id, state

    def _stack_reference(self, name: str):
        """A StackReference is a read of another stack: its id is the stack's name, `outputs` its exports."""
        stack = referenced_stack(name)
        if stack not in self.stack_outputs:
            given = ", ".join(sorted(self.stack_outputs)) or "none"
            raise MissingStackOutputs(
                f"StackReference '{name}': no outputs of stack '{stack}' offline (given: {given}); preview "
                f"'{stack}' in the same run (--stack {stack} --stack ...) or pass --stack-outputs {stack}=FILE "
                f"(the JSON that `pulumi stack output --json` prints)"
            )
        return name, {"name": name, "outputs": dict(self.stack_outputs[stack]), "secretOutputNames": []}


def _placeholders(value: Any) -> Any:
    """`value` with its unknowns (a dry run's not-yet-known inputs) replaced by a placeholder string."""
    if isinstance(value, dict):
        return {k: _placeholders(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_placeholders(v) for v in value]
    return "unknown" if isinstance(value, Unknown) else value


def _module_and_kind(token: str) -> tuple[str, str]:
    # "aws:s3/bucket:Bucket" -> ("s3", "Bucket")
    try:
        _, middle, kind = token.split(":")
    except ValueError:
        return token, token
    return middle.split("/")[0], kind
