"""Helpers shared by the guardrails: reading properties as the engine passes them.

Properties arrive in two shapes. Under the offline preview's mocks a policy sees the program's raw
inputs (camelCase, no provider defaults, no auto-names); in a real `pulumi preview` it sees the
provider's checked inputs (defaults filled in) and, at stack level, the resources' outputs, some of
them unknown. pulumi_policy wraps them in read-only proxies (Mapping / Sequence, not dict / list)
that raise UnknownValueError on an unknown value; the helpers here accept both shapes and read
optional properties defensively, so that a missing property means the same in both worlds.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Callable, Iterable, Iterator, Optional

from pulumi_policy import PolicyConfigSchema, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs
from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
)

AWS_MANAGED_KEY_ALIAS = "alias/aws/"


def parse_json(value: Any) -> Any:
    """Provider config and policy documents arrive as JSON text or as already-parsed values."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def resource_label(resource_type: str, name: str) -> str:
    return f"{resource_type} '{name}'"


def is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def as_list(value: Any) -> list[Any]:
    """None -> [], a list (or list proxy) -> its items, anything else -> [value]."""
    if value is None:
        return []
    if is_list(value):
        return list(value)
    return [value]


def get_path(props: Any, *path: str) -> Optional[Any]:
    """props[a][b]..., stepping into the first element of a list on the way (pulumi-aws turns
    single nested blocks into one-element lists in some versions); None when any step is missing."""
    node: Any = props
    for key in path:
        if is_list(node):
            node = node[0] if len(node) else None
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


_UNKNOWN_VALUES = frozenset(
    (
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_STRING_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_OBJECT_VALUE,
    )
)


def is_unknown(value: Any) -> bool:
    """The marker of a value a preview cannot know yet (an output of a resource not created yet)."""
    return isinstance(value, str) and value in _UNKNOWN_VALUES


def peek(props: Any, key: str) -> Any:
    """props.get(key), except that an unknown value comes back as its marker (see is_unknown)
    instead of aborting the policy with "can't run during preview".

    For checks whose verdict depends on whether a reference is set, not on what it will be: a KMS
    key reference computed from a key being created is the project's key, not an AWS-managed alias
    (those are literal text, known in every preview); a source ARN computed from the calling API is
    set. A first `pulumi preview` (every output unknown) still gives these guardrails a verdict.
    """
    if not isinstance(props, Mapping):
        return None
    try:
        target = props["__target"]  # pulumi_policy's proxy: the underlying values, unknowns unchecked
    except KeyError:
        target = props
    return target.get(key) if isinstance(target, Mapping) else None


def peek_path(props: Any, *path: str) -> Any:
    """get_path whose last step is a peek."""
    parent = get_path(props, *path[:-1]) if len(path) > 1 else props
    if isinstance(parent, Sequence) and not isinstance(parent, (str, bytes)):
        parent = parent[0] if parent else None
    return peek(parent, path[-1])


def truthy(value: Any) -> bool:
    """A boolean property: true, or the string "true" (engine config and some documents use text)."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def num(value: Any) -> str:
    """A number as people write it: protobuf carries every number as a double (2.0 -> "2")."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def is_customer_managed_key(value: Any) -> bool:
    """A KMS key reference that is not an AWS-managed key (`alias/aws/<service>`).

    Key ids, key ARNs and aliases of the project's own keys all qualify; so does a reference that
    is unknown during a real preview (it is the ARN of a key being created, and a non-empty value
    is all a policy can require before it exists).
    """
    if not isinstance(value, str) or not value.strip():
        return False
    return AWS_MANAGED_KEY_ALIAS not in value


# ---- policy documents ---------------------------------------------------------------------------


def statements(document: Any) -> list[Mapping[str, Any]]:
    """The statements of an IAM/resource policy document given as JSON text or a parsed value."""
    doc = parse_json(document)
    if not isinstance(doc, Mapping):
        return []
    return [s for s in as_list(doc.get("Statement")) if isinstance(s, Mapping)]


def principals(statement: Mapping[str, Any]) -> list[str]:
    """Every principal a statement names, flattened ("*" for a wildcard principal)."""
    principal = statement.get("Principal")
    if principal is None:
        return []
    if isinstance(principal, str):
        return [principal]
    found: list[str] = []
    if isinstance(principal, Mapping):
        for value in principal.values():
            found.extend(str(v) for v in as_list(value))
    return found


def is_allow(statement: Mapping[str, Any]) -> bool:
    return str(statement.get("Effect", "Allow")) == "Allow"


# ---- messages -----------------------------------------------------------------------------------


def bullet_list(items: Iterable[str]) -> str:
    return "".join(f"\n  - {item}" for item in items)


def string_list_config(key: str, default: list[str], description: str) -> PolicyConfigSchema:
    """A policy's one configurable value: a list of strings, with its default."""
    return PolicyConfigSchema(
        properties={key: {"type": "array", "items": {"type": "string"}, "default": default, "description": description}}
    )


def resource_policy(
    name: str,
    description: str,
    types: Iterable[str],
    check: Callable[[ResourceValidationArgs, Callable[[str], None]], None],
    config_schema: Any = None,
) -> ResourceValidationPolicy:
    """A resource policy that runs `check` only on the given resource types."""
    wanted = frozenset(types)

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type in wanted:
            check(args, lambda message: report(message, None))

    return ResourceValidationPolicy(name=name, description=description, validate=validate, config_schema=config_schema)


# ---- stack-level joins --------------------------------------------------------------------------


class StackView:
    """The stack's resources with the joins guardrails need.

    A resource refers to another through a property (a bucket policy's `bucket`, an endpoint's
    `endpointConfigName`). The engine records which resources each property was computed from
    (propertyDependencies), which works even when the value itself is unknown during a preview;
    where it is missing, the value is compared with the referenced resource's identifying outputs.
    """

    def __init__(self, args: StackValidationArgs):
        self.resources = list(args.resources)

    def of_type(self, *types: str) -> list[Any]:
        return [r for r in self.resources if r.resource_type in types]

    @staticmethod
    def refers_to(resource: Any, prop: str, target: Any, *target_keys: str) -> bool:
        deps = resource.property_dependencies.get(prop) if resource.property_dependencies else None
        if deps:
            return any(d.urn == target.urn for d in deps)
        value = resource.props.get(prop)
        if not isinstance(value, str) or not value:
            return False
        for key in target_keys:
            candidate = target.props.get(key)
            if isinstance(candidate, str) and candidate == value:
                return True
        return False

    def referencing(self, target: Any, types: Iterable[str], prop: str, *target_keys: str) -> list[Any]:
        """Resources of `types` whose `prop` refers to `target`."""
        return [r for r in self.of_type(*types) if self.refers_to(r, prop, target, *target_keys)]

    def alarm_names(self) -> set[str]:
        names: set[str] = set()
        for alarm in self.of_type("aws:cloudwatch/metricAlarm:MetricAlarm", "aws:cloudwatch/compositeAlarm:CompositeAlarm"):
            for key in ("name", "alarmName"):
                value = alarm.props.get(key)
                if isinstance(value, str) and value:
                    names.add(value)
        return names

    def undeclared_alarms(self, names: Iterable[str]) -> Optional[str]:
        """The problem with alarm names no alarm of this stack has, if any: such an alarm never fires."""
        declared = self.alarm_names()
        missing = [n for n in names if n not in declared]
        if not missing:
            return None
        return f"alarms not declared in this stack (an alarm that does not exist never fires): {', '.join(missing)}"


def label_of(resource: Any) -> str:
    return resource_label(resource.resource_type, resource.name)


def walk(value: Any) -> Iterator[tuple[str, Any]]:
    """(key, value) for every mapping entry in a nested document."""
    if isinstance(value, Mapping):
        for key in value:
            child = value[key]
            yield key, child
            yield from walk(child)
    elif is_list(value):
        for child in value:
            yield from walk(child)
