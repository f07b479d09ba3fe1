"""Tags: every taggable AWS resource carries the tags cost reports and owners are found by."""

from __future__ import annotations

from typing import Any, Mapping, Optional

from pulumi_policy import ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from guardrails.common import parse_json, string_list_config
from guardrails.provider_schema import input_properties

DEFAULT_REQUIRED_TAGS = ["Project", "Environment", "Owner", "CostCenter", "ManagedBy"]


def is_taggable(resource_type: str) -> bool:
    """True when the pulumi-aws resource type takes a `tags` input (read from the provider SDK
    itself, provider_schema, so the list can never drift from the resources that exist)."""
    return "tags" in (input_properties(resource_type) or frozenset())


def provider_default_tags(provider_props: Optional[Mapping[str, Any]]) -> dict[str, str]:
    if not provider_props:
        return {}
    default_tags = parse_json(provider_props.get("defaultTags"))
    if isinstance(default_tags, Mapping):
        return dict(parse_json(default_tags.get("tags")) or {})
    return {}


def effective_tags(props: Mapping[str, Any], provider_props: Optional[Mapping[str, Any]]) -> dict[str, str]:
    """The tags AWS will put on the resource: `tagsAll` when the provider computed it (a real
    preview), otherwise the provider's default tags overlaid with the resource's own."""
    if isinstance(props.get("tagsAll"), Mapping):
        return dict(props["tagsAll"])
    return {**provider_default_tags(provider_props), **dict(props.get("tags") or {})}


def _required_tags(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not is_taggable(args.resource_type):
        return
    required = args.get_config().get("requiredTags", DEFAULT_REQUIRED_TAGS)
    tags = effective_tags(args.props, args.provider.props if args.provider else None)
    missing = [t for t in required if not str(tags.get(t) or "").strip()]
    if missing:
        report(
            f"{args.resource_type} '{args.name}' is missing required tags: {', '.join(missing)}. "
            "Give the resource the stack's aws provider (its default_tags carry the common tags) "
            "or set the tags on the resource."
        )


required_tags = ResourceValidationPolicy(
    name="required-tags",
    description="Every taggable AWS resource carries the required tags.",
    validate=_required_tags,
    config_schema=string_list_config(
        "requiredTags", DEFAULT_REQUIRED_TAGS, "Tag keys every taggable resource must have, with a non-empty value."
    ),
)

POLICIES = [required_tags]
