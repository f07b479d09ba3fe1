"""Tags: every taggable AWS resource carries the tags cost reports and owners are found by."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, Optional

from pulumi_policy import ReportViolation, ResourceValidationArgs, ResourceValidationPolicy

from guardrails.common import parse_json, string_list_config

DEFAULT_REQUIRED_TAGS = ["Project", "Environment", "Owner", "CostCenter", "ManagedBy"]


@lru_cache(maxsize=None)
def is_taggable(resource_type: str) -> bool:
    """True when the pulumi-aws resource class takes a `tags` argument.

    Read from the provider SDK itself so the list can never drift from the resources that exist:
    from the class's source file where the SDK's generator puts it (importing a pulumi-aws module
    to inspect the class costs the pack up to 0.2 CPU-seconds each), else by importing the class.
    """
    try:
        package, middle, class_name = resource_type.split(":")
    except ValueError:
        return False
    if package != "aws":
        return False
    module, _, member = middle.partition("/")
    module_name = "pulumi_aws" if module == "index" else f"pulumi_aws.{module}_" if module == "lambda" else f"pulumi_aws.{module}"
    from_source = _takes_tags_in_source(module_name, member, class_name)
    if from_source is not None:
        return from_source
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError):
        return False
    return "tags" in inspect.signature(cls._internal_init).parameters


def _takes_tags_in_source(module_name: str, member: str, class_name: str) -> Optional[bool]:
    """Whether `class_name`'s `_internal_init` has a `tags` parameter, read from its generated
    module `<module>/<member in snake_case>.py` without importing it; None when it is not there."""
    spec = importlib.util.find_spec("pulumi_aws")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations)), *module_name.split(".")[1:])
    path = folder / (re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", member).lower() + ".py")
    try:
        source = path.read_text()
    except OSError:
        return None
    start = source.find(f"\nclass {class_name}(pulumi.CustomResource):")
    init = source.find("def _internal_init(", start) if start >= 0 else -1
    end = source.find("__props__=None):", init) if init >= 0 else -1
    if end < 0:
        return None
    return re.search(r"^\s+tags:", source[init:end], re.MULTILINE) is not None


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
