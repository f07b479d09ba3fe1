"""Evaluates every row of the identity table (bootstrap/access.py) against the policies bootstrap
declared: each "can" with all its probes allowed, each "cannot" with none. Returns the failures, so
the mutation tests can show a weakened policy turns a row red."""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import access
from iam_eval import allowed
from layout import Layout

Policies = Callable[[str], Sequence[Mapping[str, Any]]]


def failures(layout: Layout, policies: Policies, identities: Sequence[access.Identity] = access.identities()) -> list[str]:
    out = []
    for identity in identities:
        docs = policies(identity.key)
        for can, text, probes in access.rows(layout, identity):
            for probe in probes:
                got = allowed(docs, probe.action, probe.resource, probe.context, region=layout.region)
                if got != can:
                    out.append(
                        f"{identity.key}: {'can' if can else 'cannot'} {text!r}: {probe.action} {probe.resource} {dict(probe.context)} -> {'allowed' if got else 'denied'}"
                    )
    return out


def bounded_failures(layout: Layout, boundary: Callable[[str], Mapping[str, Any]]) -> list[str]:
    """A role the program creates, under its stack's boundary, with AdministratorAccess attached:
    everything the CI roles' "cannot" rows list that is about the stack's walls still holds."""
    admin = [{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}]
    out = []
    for stack in ("dev", "prod"):
        # The program's roles live in the stack's account, like the stack's deploy role; they do
        # read their own stack's data (training data, queues), so that one row is not theirs.
        stand_in = next(i for i in access.identities() if i.key == f"deploy-{stack}")
        for can, text, probes in access.rows(layout, stand_in):
            if can or text.startswith("read data"):
                continue
            for probe in probes:
                if allowed(admin, probe.action, probe.resource, probe.context, boundary=boundary(stack), region=layout.region):
                    out.append(
                        f"a {stack} program role with AdministratorAccess: cannot {text!r} but {probe.action} {probe.resource} {dict(probe.context)} is allowed"
                    )
    return out
