"""The table's evaluation is not vacuous: each weakening the security review found to leave the old
suite green (a narrowed other-stack deny, AttachRolePolicy without the boundary condition, PassRole
on every role) turns it red here, on the very documents bootstrap declared."""

from __future__ import annotations

import copy
from typing import Any, Callable

import pytest
from table_check import bounded_failures, failures

Mutation = Callable[[dict[str, Any]], None]


def _statement(doc: dict[str, Any], sid: str) -> dict[str, Any]:
    return next(s for s in doc["Statement"] if s["Sid"] == sid)


def narrow_the_other_stacks_tag_deny(doc):
    _statement(doc, "NotTheOtherStacksTaggedResources")["Action"] = ["s3:*", "iam:*"]


def attach_without_the_boundary_condition(doc):
    del _statement(doc, "AttachOnlyItsStacksPolicies")["Condition"]["StringEquals"]


def pass_role_on_every_role(doc):
    _statement(doc, "PassItsStacksRolesToTheProgramsServices")["Resource"] = ["*"]


def drop_the_approval_deny(doc):
    doc["Statement"].remove(_statement(doc, "NeverChangeApproval"))


@pytest.mark.parametrize(
    "mutation, expected",
    [
        (narrow_the_other_stacks_tag_deny, "cannot 'change or read the data of resources tagged `Environment=prod`"),
        (attach_without_the_boundary_condition, "iam:AttachRolePolicy"),
        (pass_role_on_every_role, "iam:PassRole"),
        (drop_the_approval_deny, None),  # deploy roles hold no approval grant: the deny is defence in depth
    ],
    ids=lambda m: getattr(m, "__name__", "x"),
)
def test_each_weakening_of_the_dev_deploy_role_turns_the_table_red(one, mutation: Mutation, expected):
    documents = copy.deepcopy(one.policies("deploy-dev"))
    mutated = 0
    for doc in documents:
        try:
            mutation(doc)
            mutated += 1
        except StopIteration:
            continue  # the statement lives in another of the role's documents
    assert mutated == 1

    def policies(key: str):
        return documents if key == "deploy-dev" else one.policies(key)

    found = failures(one.layout, policies)
    if expected is None:
        assert found == []
    else:
        assert found and all(f.startswith("deploy-dev") for f in found) and any(expected in f for f in found), found


@pytest.mark.parametrize(
    "sid",
    [
        "BoundaryNeverChangeApproval",
        "BoundaryOnlyTheStacksRegion",
        "BoundaryNotTheOtherStacksTaggedResources",
        "BoundaryRegisterOnlyPending",
    ],
)
def test_each_boundary_wall_is_needed(one, sid):
    def boundary(stack: str):
        doc = copy.deepcopy(one.boundary(stack))
        doc["Statement"] = [s for s in doc["Statement"] if s["Sid"] != sid]
        if sid == "BoundaryOnlyTheStacksRegion":
            for s in doc["Statement"]:
                s.pop("Condition", None) if s["Sid"] == "ProgramServicesInTheStacksRegion" else None
        return doc

    assert bounded_failures(one.layout, boundary) != []
