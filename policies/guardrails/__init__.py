"""All guardrails of the pack, one module per AWS service area."""

from guardrails import kms, sns, tags

ALL_POLICIES = [
    *kms.POLICIES,
    *sns.POLICIES,
    *tags.POLICIES,
]
