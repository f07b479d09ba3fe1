"""KMS: the project key must rotate."""

from pulumi_policy import ReportViolation, ResourceValidationArgs, ResourceValidationPolicy


def _key_rotation(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != "aws:kms/key:Key":
        return
    spec = args.props.get("customerMasterKeySpec") or args.props.get("keySpec") or "SYMMETRIC_DEFAULT"
    if spec != "SYMMETRIC_DEFAULT":
        return  # KMS rotates symmetric encryption keys only
    if args.props.get("enableKeyRotation") is not True:
        report(
            f"KMS key '{args.name}' does not rotate. Set enable_key_rotation=True "
            "(KMS then rotates the key material every year; old data stays readable)."
        )


kms_key_rotation = ResourceValidationPolicy(
    name="kms-key-rotation",
    description="Customer-managed KMS keys rotate their key material.",
    validate=_key_rotation,
)

POLICIES = [kms_key_rotation]
