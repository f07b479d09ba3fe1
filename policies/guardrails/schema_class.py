"""A guardrail over a class of pulumi-aws types selected by the inputs their schema declares.

Each class names the input properties that make a type a member (a public-address switch, a
deletion-protection switch, a transport-encryption switch) and the types a dedicated guardrail
already judges; every other type of the installed provider that declares one of the properties is
judged, including types the program does not declare yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Callable, Iterable, Optional

from pulumi_policy import PolicyConfigSchema, ResourceValidationArgs, ResourceValidationPolicy

from guardrails.provider_schema import input_properties


class SchemaClass:
    def __init__(self, properties: Iterable[str], not_judged_here: Mapping[str, str], extra_types: Iterable[str] = ()):
        self.properties = frozenset(properties)
        self.not_judged_here = dict(not_judged_here)
        self.extra_types = frozenset(extra_types)

    def member_properties(self, resource_type: str) -> frozenset[str]:
        return (input_properties(resource_type) or frozenset()) & self.properties

    def judged(self, resource_type: str) -> bool:
        if resource_type in self.not_judged_here:
            return False
        return resource_type in self.extra_types or bool(self.member_properties(resource_type))

    def types_covered(self, all_types: Iterable[str]) -> list[str]:
        return sorted(t for t in all_types if self.judged(t))

    def policy(
        self,
        name: str,
        description: str,
        check: Callable[[ResourceValidationArgs, Callable[[str], None]], None],
        config_schema: Optional[PolicyConfigSchema] = None,
    ) -> ResourceValidationPolicy:
        judged = self.judged
        return ResourceValidationPolicy(
            name=name,
            description=description,
            validate=lambda args, report: check(args, lambda message: report(message, None)) if judged(args.resource_type) else None,
            config_schema=config_schema,
        )
