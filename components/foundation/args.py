"""FoundationArgs: the key, alarm topic and network every other part builds on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class FoundationArgs:
    name_prefix: str
    region: str
    az_count: int
    nat_gateways: int
    notification_email: Optional[str] = None
    vpc_cidr: str = "10.20.0.0/16"
    key_deletion_window_days: int = 30
    consumer_accounts: tuple[str, ...] = ()
    """Accounts serving this stack's model registry: they may decrypt, through S3 and ECR only,
    the model artifacts, baselines and image that this key encrypts."""
    protect_key: bool = False
    """Another stack or account serves what this key encrypts (the shared registry): `pulumi
    destroy` or a replacement must not schedule its deletion."""
