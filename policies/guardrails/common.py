"""Helpers shared by the guardrails: reading properties as the engine passes them."""

from __future__ import annotations

import json
from typing import Any, Mapping, Optional


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


def get_path(props: Mapping[str, Any], *path: str) -> Optional[Any]:
    node: Any = props
    for key in path:
        if isinstance(node, list):
            node = node[0] if node else None
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node
