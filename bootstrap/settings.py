"""The bootstrap stack's configuration, checked: every problem is named with its key and what is
expected, all at once, before any resource is declared."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

import pulumi
from access import DEFAULT_ENVIRONMENTS
from layout import Layout

_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
_GIT_NAME = re.compile(r"^[A-Za-z0-9._/-]{1,255}$")
_OIDC_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com$")
_ACCOUNT = re.compile(r"^\d{12}$")
_ZONE = re.compile(r"^Z[A-Z0-9]{1,31}$")
_PRINCIPAL = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(root|role/.+|user/.+)$")
ACCOUNT_KEYS = ("dev", "prod", "state")


@dataclass(frozen=True)
class Settings:
    layout: Layout
    account: str
    environments: dict[str, str]
    existing_oidc_provider_arn: Optional[str]


def load() -> Settings:
    config = pulumi.Config()
    key = f"{pulumi.get_project()}:"
    problems: list[str] = []

    def text(name: str, default: Optional[str], pattern: re.Pattern[str], expected: str) -> str:
        value = config.get(name)
        if value is None:
            if default is None:
                problems.append(f"{key}{name}: required key is missing; expected {expected}")
                return ""
            return default
        if not pattern.match(value):
            problems.append(f"{key}{name} = {value!r}: expected {expected}")
        return value

    def mapping(name: str) -> dict[str, Any]:
        try:
            value = config.get_object(name)
        except Exception:
            value = config.get(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            problems.append(f"{key}{name} = {value!r}: expected a map")
            return {}
        return value

    repository = text("githubRepository", None, _REPOSITORY, "OWNER/REPO, the GitHub repository whose workflows deploy")
    environments = {
        key_: text(f"{key_}Environment", default, _GIT_NAME, "a GitHub environment name") for key_, default in DEFAULT_ENVIRONMENTS.items()
    }
    seen: dict[str, str] = {}
    for name, value in environments.items():
        if value in seen:
            problems.append(
                f"{key}{name}Environment = {value!r}: must differ from {seen[value]}Environment (each identity has its own environment)"
            )
        seen.setdefault(value, name)

    accounts_raw = mapping("accounts")
    accounts: dict[str, str] = {}
    if not accounts_raw:
        problems.append(f"{key}accounts: required key is missing; expected a map dev/prod/state of 12-digit AWS account ids")
    for name in ACCOUNT_KEYS:
        value = accounts_raw.get(name) if accounts_raw else None
        if accounts_raw and value is None:
            problems.append(f"{key}accounts.{name}: required key is missing; expected a 12-digit AWS account id")
        elif value is not None and not _ACCOUNT.match(str(value)):
            problems.append(f"{key}accounts.{name} = {value!r}: expected a 12-digit AWS account id (quote it in YAML)")
        elif value is not None:
            accounts[name] = str(value)
    for extra in sorted(set(accounts_raw) - set(ACCOUNT_KEYS)):
        problems.append(f"{key}accounts.{extra}: unknown key; expected only {', '.join(ACCOUNT_KEYS)}")

    account = config.get("account")
    distinct = sorted(set(accounts.values()))
    if account is None and len(distinct) > 1:
        problems.append(
            f"{key}account: required when the stacks use several accounts; expected the one this stack runs in, one of {', '.join(distinct)}"
        )
    elif account is not None and distinct and account not in distinct:
        problems.append(f"{key}account = {account!r}: expected one of the accounts of {key}accounts ({', '.join(distinct)})")
    account = account or (distinct[0] if distinct else "")

    zones = mapping("hostedZones")
    for stack, zone in zones.items():
        if stack not in ("dev", "prod"):
            problems.append(f"{key}hostedZones.{stack}: unknown stack; expected dev or prod")
        elif not _ZONE.match(str(zone)) or set(str(zone)[1:]) == {"0"}:
            problems.append(f"{key}hostedZones.{stack} = {zone!r}: expected the stack's Route 53 hosted zone id (Z…), not a placeholder")

    try:
        principals = config.get_object("approverPrincipals") or []
    except Exception:
        principals = config.get("approverPrincipals")
    if not isinstance(principals, list) or not all(isinstance(p, str) and _PRINCIPAL.match(p) for p in principals):
        problems.append(
            f"{key}approverPrincipals = {principals!r}: expected a list of IAM principal ARNs (arn:aws:iam::<account>:role/…, user/… or root)"
        )
        principals = []

    existing = config.get("existingOidcProviderArn")
    if existing is not None and not _OIDC_ARN.match(existing):
        problems.append(
            f"{key}existingOidcProviderArn = {existing!r}: expected arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com"
        )
    try:
        state_backend = config.get_bool("stateBackend")
    except pulumi.ConfigTypeError:
        problems.append(f"{key}stateBackend = {config.get('stateBackend')!r}: expected true or false")
        state_backend = None
    region = pulumi.Config("aws").get("region")
    if region is None:
        problems.append("aws:region: required key is missing; expected an AWS region such as us-east-1")

    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise pulumi.RunError(
            f"invalid configuration for stack '{pulumi.get_stack()}' ({len(problems)} problem{'s' if len(problems) != 1 else ''}):\n{lines}"
        )
    layout = Layout(
        region=str(region),
        accounts=accounts,
        repository=repository,
        state_backend=True if state_backend is None else state_backend,
        hosted_zones={str(k): str(v) for k, v in zones.items()},
        approver_principals=tuple(principals),
    )
    return Settings(layout=layout, account=account, environments=environments, existing_oidc_provider_arn=existing)
