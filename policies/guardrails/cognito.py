"""Cognito: user pools require MFA at the configured level and a strong password policy."""

from __future__ import annotations

from typing import Any, Callable

from pulumi_policy import PolicyConfigSchema, ResourceValidationArgs

from guardrails.common import get_path, num, resource_policy, truthy

USER_POOL = "aws:cognito/userPool:UserPool"
MFA_RANK = {"OFF": 0, "OPTIONAL": 1, "ON": 2}
DEFAULT_MIN_LENGTH = 12
DEFAULT_TEMPORARY_DAYS = 7


def _has_second_factor(props: Any) -> bool:
    """TOTP enabled, or an SMS or email MFA configuration."""
    return bool(
        truthy(get_path(props, "softwareTokenMfaConfiguration", "enabled"))
        or get_path(props, "smsConfiguration", "snsCallerArn")
        or props.get("emailMfaConfiguration")
    )


def _mfa(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    required = str(args.get_config().get("requiredMfa", "ON"))
    level = str(args.props.get("mfaConfiguration") or "OFF")
    label = f"{args.resource_type} '{args.name}'"
    fix = (
        f"Set mfa_configuration='{required}' and software_token_mfa_configuration="
        "aws.cognito.UserPoolSoftwareTokenMfaConfigurationArgs(enabled=True) (authenticator apps)."
    )
    if MFA_RANK.get(level, 0) < MFA_RANK[required]:
        report(f"{label} has MFA {level}, below the required {required}: a leaked password is enough to sign in. {fix}")
    elif level != "OFF" and not _has_second_factor(args.props):
        report(f"{label} has MFA {level} but no second factor configured (TOTP, SMS or email). {fix}")


def _passwords(args: ResourceValidationArgs, report: Callable[[str], None]) -> None:
    config = args.get_config()
    min_length = int(config.get("minimumLength", DEFAULT_MIN_LENGTH))
    max_days = int(config.get("maxTemporaryPasswordDays", DEFAULT_TEMPORARY_DAYS))
    policy = args.props.get("passwordPolicy")
    problems = []
    length = get_path(policy, "minimumLength") if policy else None
    if not isinstance(length, (int, float)) or length < min_length:
        problems.append(f"minimum length {num(length) if length is not None else 'unset (8)'} < {min_length}")
    for flag in ("requireLowercase", "requireUppercase", "requireNumbers", "requireSymbols"):
        if not policy or not truthy(get_path(policy, flag)):
            problems.append(f"{flag} is not true")
    days = get_path(policy, "temporaryPasswordValidityDays") if policy else None
    if days is not None and (not isinstance(days, (int, float)) or days > max_days):
        problems.append(f"temporary passwords stay valid {num(days)} days (> {max_days})")
    if problems:
        report(
            f"{args.resource_type} '{args.name}' allows weak passwords: {'; '.join(problems)}. Set password_policy with "
            f"minimum_length >= {min_length}, require_lowercase/uppercase/numbers/symbols=True and "
            f"temporary_password_validity_days <= {max_days}."
        )


cognito_mfa = resource_policy(
    "cognito-mfa",
    "Cognito user pools require MFA at the configured level (OPTIONAL or ON) with a second factor configured.",
    [USER_POOL],
    _mfa,
    config_schema=PolicyConfigSchema(
        properties={
            "requiredMfa": {
                "type": "string",
                "enum": ["OPTIONAL", "ON"],
                "default": "ON",
                "description": "Lowest allowed mfa_configuration of a user pool.",
            }
        }
    ),
)
cognito_password_policy = resource_policy(
    "cognito-password-policy",
    "Cognito user pools enforce long passwords with all character classes and short-lived temporary passwords.",
    [USER_POOL],
    _passwords,
    config_schema=PolicyConfigSchema(
        properties={
            "minimumLength": {
                "type": "integer",
                "minimum": 8,
                "maximum": 99,
                "default": DEFAULT_MIN_LENGTH,
                "description": "Lowest allowed minimum password length.",
            },
            "maxTemporaryPasswordDays": {
                "type": "integer",
                "minimum": 1,
                "maximum": 365,
                "default": DEFAULT_TEMPORARY_DAYS,
                "description": "Longest allowed validity of an administrator-set temporary password, in days.",
            },
        }
    ),
)

POLICIES = [cognito_mfa, cognito_password_policy]
