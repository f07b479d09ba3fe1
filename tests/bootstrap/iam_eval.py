"""A small IAM policy evaluator for the bootstrap tests: explicit deny wins, then an allow is needed in
the identity's policies AND (when it has one) in its permissions boundary; for a request on a resource
with a policy (a bucket), `same_account_allowed` adds that policy's denies and allows. It knows wildcards,
NotAction/NotResource, and the condition operators bootstrap's documents use, with AWS's rules for
missing keys (a negated operator matches an absent key; `IfExists` too), multi-valued keys
(`ForAnyValue:`/`ForAllValues:`) and `Null`. An operator it does not know fails the test loudly.
"""

from __future__ import annotations

import fnmatch
from typing import Any, Iterable, Mapping, Optional, Sequence

_NEGATED = {"StringNotEquals", "StringNotLike", "ArnNotLike", "ArnNotEquals", "StringNotEqualsIgnoreCase"}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _glob(pattern: str, value: str, *, case: bool = True) -> bool:
    # IAM's wildcards are * and ?; fnmatch's [..] classes are not IAM syntax: escape them.
    pattern = pattern.replace("[", "[[]")
    if case:
        return fnmatch.fnmatchcase(value, pattern)
    return fnmatch.fnmatchcase(value.lower(), pattern.lower())


def _compare(base: str, expected: str, actual: str) -> bool:
    if base in ("StringEquals", "StringNotEquals", "ArnEquals", "ArnNotEquals"):
        return actual == expected
    if base in ("StringLike", "StringNotLike", "ArnLike", "ArnNotLike"):
        return _glob(expected, actual)
    if base == "Bool":
        return actual.lower() == str(expected).lower()
    raise AssertionError(f"the evaluator does not know the operator {base}: teach it before using it")


def _operator_holds(operator: str, key: str, expected: Any, context: Mapping[str, Any]) -> bool:
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    present = key in context
    if base == "Null":
        return (not present) == (str(expected).lower() == "true")
    if not present:
        return if_exists or base in _NEGATED
    values = [str(v) for v in as_list(context[key])]
    wanted = [str(e) for e in as_list(expected)]
    negated = base in _NEGATED
    positive = base.replace("Not", "") if negated else base

    def matches(value: str) -> bool:
        return any(_compare(positive, e, value) for e in wanted)

    if qualifier == "ForAnyValue":
        hit = any(matches(v) for v in values)
    elif qualifier == "ForAllValues":
        hit = all(matches(v) for v in values)
    else:
        assert len(values) == 1, f"{key} is multi-valued: use ForAnyValue/ForAllValues"
        hit = matches(values[0])
    return not hit if negated else hit


def conditions_hold(block: Mapping[str, Mapping[str, Any]], context: Mapping[str, Any]) -> bool:
    return all(_operator_holds(op, key, expected, context) for op, keys in block.items() for key, expected in keys.items())


def applies(statement: Mapping[str, Any], action: str, resource: str, context: Mapping[str, Any]) -> bool:
    if "Action" in statement:
        if not any(_glob(p, action, case=False) for p in as_list(statement["Action"])):
            return False
    elif any(_glob(p, action, case=False) for p in as_list(statement["NotAction"])):
        return False
    if "Resource" in statement:
        if not any(_glob(p, resource) for p in as_list(statement["Resource"])):
            return False
    elif "NotResource" in statement and any(_glob(p, resource) for p in as_list(statement["NotResource"])):
        return False
    return conditions_hold(statement.get("Condition", {}), context)


def _effects(policies: Iterable[Mapping[str, Any]], action: str, resource: str, context: Mapping[str, Any]) -> set[str]:
    return {s["Effect"] for p in policies for s in p["Statement"] if applies(s, action, resource, context)}


def allowed(
    policies: Sequence[Mapping[str, Any]],
    action: str,
    resource: str,
    context: Optional[Mapping[str, Any]] = None,
    *,
    boundary: Optional[Mapping[str, Any]] = None,
    region: str = "us-east-1",
) -> bool:
    """Whether a principal with these identity policies (and boundary) may make the request.
    `aws:RequestedRegion` defaults to the stacks' region."""
    full = {"aws:RequestedRegion": region, **(context or {})}
    effects = _effects(policies, action, resource, full)
    if boundary is not None:
        bounded = _effects([boundary], action, resource, full)
        if "Deny" in bounded or "Allow" not in bounded:
            return False
    return "Deny" not in effects and "Allow" in effects


def _admits(granted: str, principal_arn: str) -> bool:
    """A policy's principal ARN names this principal: itself, or its account's root (every IAM
    principal of the account, whose own policies must allow the request too)."""
    return granted == principal_arn or (granted.endswith(":root") and principal_arn.split(":")[4] == granted.split(":")[4])


def trusts(trust: Mapping[str, Any], principal: Mapping[str, str], action: str, context: Mapping[str, Any]) -> bool:
    """Whether a trust policy lets `principal` ({"Federated": arn} or {"AWS": arn}) take `action`.
    An account root principal admits every IAM principal of that account (whose own policies
    must allow it too)."""

    def principal_matches(statement: Mapping[str, Any]) -> bool:
        return any(
            kind in principal and _admits(arn, principal[kind])
            for kind, wanted in statement["Principal"].items()
            for arn in as_list(wanted)
        )

    hits = {
        s["Effect"]
        for s in trust["Statement"]
        if principal_matches(s) and action in as_list(s["Action"]) and conditions_hold(s.get("Condition", {}), context)
    }
    return "Deny" not in hits and "Allow" in hits


def _principal_in(statement: Mapping[str, Any], principal_arn: str) -> bool:
    wanted = statement.get("Principal", {})
    if wanted == "*":
        return True
    return any(arn == "*" or _admits(arn, principal_arn) for arn in (as_list(wanted.get("AWS", [])) if isinstance(wanted, dict) else []))


def resource_policy_allows(
    document: Mapping[str, Any], principal_arn: str, action: str, resource: str, context: Optional[Mapping[str, Any]] = None
) -> bool:
    """Whether a resource policy (bucket, key) grants an IAM principal the request; the principal's
    own account's policies must allow it too."""
    full = {"aws:PrincipalArn": principal_arn, **(context or {})}
    effects = {s["Effect"] for s in document["Statement"] if _principal_in(s, principal_arn) and applies(s, action, resource, full)}
    return "Deny" not in effects and "Allow" in effects


def same_account_allowed(
    identity: Sequence[Mapping[str, Any]],
    resource_policy: Mapping[str, Any],
    principal_arn: str,
    action: str,
    resource: str,
    context: Optional[Mapping[str, Any]] = None,
    *,
    boundary: Optional[Mapping[str, Any]] = None,
    region: str = "us-east-1",
) -> bool:
    """Whether a principal of the resource's own account may make the request, as AWS combines its
    policies with the resource's (bucket) policy: an explicit deny in either (or in its boundary)
    refuses it; otherwise an allow from its own policies (within its boundary) or from the resource
    policy grants it."""
    full = {"aws:RequestedRegion": region, "aws:PrincipalArn": principal_arn, **(context or {})}
    granted = {s["Effect"] for s in resource_policy["Statement"] if _principal_in(s, principal_arn) and applies(s, action, resource, full)}
    denied = "Deny" in granted or "Deny" in _effects(identity, action, resource, full)
    if boundary is not None and "Deny" in _effects([boundary], action, resource, full):
        denied = True
    return not denied and (allowed(identity, action, resource, full, boundary=boundary, region=region) or "Allow" in granted)
