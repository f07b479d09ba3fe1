"""How users reach the Dashboard safely: its DNS name, the listener's TLS certificate and the
Cognito user pool, app client and managed-login domain that `authenticate-cognito` signs users in with.

Certificate, by configuration: `certificate_arn` (yours, for `domain_name`); else, with a Route 53
`hosted_zone_id`, a public ACM certificate for `domain_name` that the program validates through
DNS; else (no domain) a self-signed certificate for the ALB's DNS name, which browsers warn about.

Helpers of components/dashboard/streamlit_service.py: every resource they declare is a child of the Dashboard.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, NamedTuple, Optional

import pulumi
import pulumi_aws as aws
import pulumi_tls as tls

if TYPE_CHECKING:
    from components.dashboard.args import DashboardArgs

OAUTH_SCOPES = ["openid", "email"]


class CognitoLogin(NamedTuple):
    user_pool: aws.cognito.UserPool
    client: aws.cognito.UserPoolClient
    domain: aws.cognito.UserPoolDomain


def domain_problems(args: DashboardArgs) -> list[str]:
    """What components/config/stack.py also rejects, for callers that build DashboardArgs themselves."""
    if args.domain_name is None:
        return [f"{key} needs domain_name" for key in ("certificate_arn", "hosted_zone_id") if getattr(args, key) is not None]
    if args.certificate_arn is None and args.hosted_zone_id is None:
        return [f"domain_name {args.domain_name!r} needs certificate_arn or hosted_zone_id"]
    return []


def alias_record(
    name: str, args: DashboardArgs, load_balancer: aws.lb.LoadBalancer, parent: pulumi.Resource
) -> Optional[aws.route53.Record]:
    """`domain_name` -> the ALB, when the program manages the name's zone."""
    if args.domain_name is None or args.hosted_zone_id is None:
        return None
    return aws.route53.Record(
        f"{name}-dns",
        zone_id=args.hosted_zone_id,
        name=args.domain_name,
        type="A",
        aliases=[aws.route53.RecordAliasArgs(name=load_balancer.dns_name, zone_id=load_balancer.zone_id, evaluate_target_health=True)],
        opts=pulumi.ResourceOptions(parent=parent),
    )


def _dns_validated_certificate(name: str, args: DashboardArgs, parent: pulumi.Resource) -> pulumi.Output[str]:
    child = pulumi.ResourceOptions(parent=parent)
    # Public, in the ALB's Region (a load balancer uses only certificates of its own Region).
    certificate = aws.acm.Certificate(f"{name}-domain-certificate", domain_name=args.domain_name, validation_method="DNS", opts=child)
    # One name, so one validation record; ACM renews the certificate for as long as the record stays.
    option = certificate.domain_validation_options[0]
    record = aws.route53.Record(
        f"{name}-certificate-validation-record",
        zone_id=args.hosted_zone_id,
        name=option.resource_record_name,
        type=option.resource_record_type,
        records=[option.resource_record_value],
        ttl=300,
        # ACM gives every certificate for a name in an account the same record: a second stack or
        # a re-issued certificate must not fail on the existing one.
        allow_overwrite=True,
        opts=child,
    )
    # Waits until ACM has issued the certificate: the listener must never get a pending one.
    validation = aws.acm.CertificateValidation(
        f"{name}-certificate-validation", certificate_arn=certificate.arn, validation_record_fqdns=[record.fqdn], opts=child
    )
    return validation.certificate_arn


def certificate_arn(name: str, args: DashboardArgs, host: pulumi.Output[str], parent: pulumi.Resource) -> pulumi.Input[str]:
    if args.certificate_arn:
        return args.certificate_arn
    if args.domain_name is not None and args.hosted_zone_id is not None:
        return _dns_validated_certificate(name, args, parent)
    child = pulumi.ResourceOptions(parent=parent)
    # Self-signed for the name users reach: the connection is encrypted, but browsers warn
    # until a certificate from a trusted CA (dashboard.certificateArn) replaces it. The ALB does
    # not reference the certificate, so naming the ALB's DNS name here creates no cycle.
    key = tls.PrivateKey(f"{name}-tls-key", algorithm="RSA", rsa_bits=2048, opts=child)
    cert = tls.SelfSignedCert(
        f"{name}-tls-cert",
        private_key_pem=key.private_key_pem,
        subject=tls.SelfSignedCertSubjectArgs(common_name=f"{args.name_prefix}-dashboard", organization=args.name_prefix),
        dns_names=[host],
        validity_period_hours=365 * 24,
        # A `pulumi up` in the last 30 days of validity replaces the certificate.
        early_renewal_hours=30 * 24,
        allowed_uses=["digital_signature", "key_encipherment", "server_auth"],
        opts=child,
    )
    imported = aws.acm.Certificate(f"{name}-certificate", private_key=key.private_key_pem, certificate_body=cert.cert_pem, opts=child)
    return imported.arn


def cognito_login(
    name: str,
    args: DashboardArgs,
    host: pulumi.Output[str],
    account: pulumi.Output[str],
    parent: pulumi.Resource,
) -> CognitoLogin:
    child = pulumi.ResourceOptions(parent=parent)
    user_pool = aws.cognito.UserPool(
        f"{name}-users",
        name=f"{args.name_prefix}-dashboard",
        # Threat protection (adaptive authentication, compromised credentials) needs the Plus plan.
        user_pool_tier="PLUS" if args.threat_protection else "ESSENTIALS",
        user_pool_add_ons=aws.cognito.UserPoolUserPoolAddOnsArgs(advanced_security_mode="ENFORCED") if args.threat_protection else None,
        username_attributes=["email"],
        auto_verified_attributes=["email"],
        admin_create_user_config=aws.cognito.UserPoolAdminCreateUserConfigArgs(allow_admin_create_user_only=True),
        password_policy=aws.cognito.UserPoolPasswordPolicyArgs(
            minimum_length=12,
            require_lowercase=True,
            require_uppercase=True,
            require_numbers=True,
            require_symbols=True,
            temporary_password_validity_days=3,
        ),
        mfa_configuration="ON" if args.mfa_required else "OPTIONAL",
        software_token_mfa_configuration=aws.cognito.UserPoolSoftwareTokenMfaConfigurationArgs(enabled=True),
        account_recovery_setting=aws.cognito.UserPoolAccountRecoverySettingArgs(
            recovery_mechanisms=[aws.cognito.UserPoolAccountRecoverySettingRecoveryMechanismArgs(name="verified_email", priority=1)]
        ),
        deletion_protection="ACTIVE" if args.deletion_protection else "INACTIVE",
        opts=child,
    )
    client = aws.cognito.UserPoolClient(
        f"{name}-alb-client",
        name=f"{args.name_prefix}-dashboard-alb",
        user_pool_id=user_pool.id,
        generate_secret=True,  # the ALB is a confidential client
        allowed_oauth_flows=["code"],
        allowed_oauth_flows_user_pool_client=True,
        allowed_oauth_scopes=OAUTH_SCOPES,
        # Only the name users open (the domain when there is one): once a domain is configured the
        # ALB's own DNS name has no certificate browsers trust.
        callback_urls=[pulumi.Output.concat("https://", host, "/oauth2/idpresponse")],
        # Where Cognito's /logout may send users back to (its logout_uri must be one of these).
        logout_urls=[pulumi.Output.concat("https://", host, "/")],
        supported_identity_providers=["COGNITO"],
        prevent_user_existence_errors="ENABLED",
        enable_token_revocation=True,
        opts=child,
    )
    # Globally unique per Region: the prefix plus a hash of account and Region, stable across runs.
    domain_prefix = account.apply(
        lambda account: f"{args.name_prefix}-dashboard-{hashlib.sha256(f'{account}/{args.region}'.encode()).hexdigest()[:8]}"
    )
    domain = aws.cognito.UserPoolDomain(
        f"{name}-login-domain",
        domain=domain_prefix,
        user_pool_id=user_pool.id,
        managed_login_version=2,  # managed login: sign-in with TOTP set-up when MFA is required
        opts=child,
    )
    aws.cognito.ManagedLoginBranding(
        f"{name}-login-branding", user_pool_id=user_pool.id, client_id=client.id, use_cognito_provided_values=True, opts=child
    )
    return CognitoLogin(user_pool, client, domain)
