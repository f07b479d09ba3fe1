"""How the stacks' names wall them off from each other: every named resource of a stack's program
starts with `mlops-<stack>-`, and its CI roles are `sagemaker-mlops-github-<job>-<stack>`.

The program (SecureBucket's policy) and bootstrap/ (the CI roles and their identity policies) both
name each other's principals from these; bootstrap is a separate Pulumi project that imports this
module, never the other way round.
"""

from __future__ import annotations

PROJECT = "sagemaker-mlops"
STACKS = ("dev", "prod")
GITHUB_ROLE_PREFIX = f"{PROJECT}-github-"


def other(stack: str) -> str:
    return next(s for s in STACKS if s != stack)


def program_prefix(stack: str) -> str:
    """Every named resource of the program's stack starts with it (roles, policies, buckets …)."""
    return f"mlops-{stack}-"


def stack_of_prefix(name_prefix: str, field: str = "name_prefix") -> str:
    """The stack whose resources `name_prefix` (`mlops-<stack>`) names."""
    for stack in STACKS:
        if program_prefix(stack) == f"{name_prefix}-":
            return stack
    expected = " or ".join(repr(program_prefix(s)[:-1]) for s in STACKS)
    raise ValueError(f"{field} = {name_prefix!r}: expected {expected}, the prefix a stack's IAM walls name")


def stack_role_patterns(stack: str) -> list[str]:
    """ARN patterns (aws:PrincipalArn) of every role of `stack`: its program's and its CI's, in any account."""
    return [
        f"arn:*:iam::*:role/{program_prefix(stack)}*",
        f"arn:*:iam::*:role/{GITHUB_ROLE_PREFIX}*-{stack}",
    ]
