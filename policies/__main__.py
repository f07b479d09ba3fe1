"""The sagemaker-mlops CrossGuard policy pack.

The engine starts this file as an analyzer plugin; the PolicyPack constructor serves gRPC and
prints its port as the first line of stdout, so nothing here may print to stdout.
"""

from guardrails import ALL_POLICIES
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(
    name="sagemaker-mlops-guardrails",
    # Every policy is mandatory unless the stack's policy config (policies/config/<stack>.json)
    # says otherwise: an unconfigured stack gets the strictest pack.
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=ALL_POLICIES,
)
