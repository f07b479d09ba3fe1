"""Surviving mutants that change nothing a caller can observe, each with the reason.

A survivor is matched by its file, the line before and the line after (whitespace-trimmed), so
an entry stays attached to its code when lines above it move, and stops matching (the survivor is
reported again) when the line itself changes. docs/testing.md's table is generated from this list
(`python -m tools.mutation --equivalents`) and a test keeps the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from tools.mutation.mutants import Mutant


@dataclass(frozen=True)
class Equivalent:
    path: str
    original: str
    mutated: Optional[str]  # None: every mutant of the line (code no input reaches)
    reason: str
    scope: Optional[str] = None  # the function holding the line, where the same line appears in two


CODEC = "containers/model/churn/codec.py"
_CACHE = "a cache of a pure function of one string, whose result is frozen: only speed changes (the server's benchmarks measure it)"
_SHORTCUT = (
    "a shortcut before the row-by-row check: when it is not taken, the loop below finds nothing wrong in a "
    "valid chunk and returns as well (slower, same answer)"
)
_SHAPE_CHECKED = "unreachable: `_check_shape` has already refused any line without exactly n-1 commas, so a field index is always below n"
_SAME_VERSION = (
    "the registry's ModelPackageVersion is the last part of the package's ARN, which the fallback reads: the same number either way"
)
_LAST_PART = (
    "the ARN `...:model-package/<group>/<version>` has a `/`: split once at the last one it is two parts, [+1] is [-1], "
    "and the last part of a split into three is the same"
)
_MSGSPEC_REFUSES = "unreachable: msgspec refuses NaN, Infinity and out-of-range numbers while decoding, before this check"

EQUIVALENTS: tuple[Equivalent, ...] = (
    Equivalent(CODEC, "@functools.lru_cache(maxsize=256)", "", _CACHE),
    Equivalent(CODEC, "@functools.lru_cache(maxsize=256)", "@functools.lru_cache(maxsize=257)", _CACHE),
    Equivalent(
        CODEC,
        'if len(line) > n_features * (MAX_FIELD_BYTES + 1) or line.translate(None, _NUMBER_BYTES + b",") or (line.count(b",") != n_features - 1):',
        'if len(line) >= n_features * (MAX_FIELD_BYTES + 1) or line.translate(None, _NUMBER_BYTES + b",") or (line.count(b",") != n_features - 1):',
        "the fast path may decline any row (it returns None and `iter_csv` decides): a row exactly at the length bound is then "
        "parsed by the general parser, with the same values",
    ),
    Equivalent(
        CODEC,
        'if max(map(len, lines)) <= longest and list(map(bytes.count, lines, repeat(b","))) == [n - 1] * len(lines):',
        None,
        _SHORTCUT,
    ),
    Equivalent(
        CODEC,
        'row += 1 + text.count(b"\\n", 0, line_start) + text.count(b"\\r", 0, line_start) - text.count(b"\\r\\n", 0, line_start)',
        'row += 1 + text.count(b"\\n", 1, line_start) + text.count(b"\\r", 0, line_start) - text.count(b"\\r\\n", 0, line_start)',
        "a chunk starting with a line break would start with an empty row, which `_check_shape` refuses before a field is located",
    ),
    Equivalent(
        CODEC,
        "window = min(len(text), at + 2 * MAX_FIELD_BYTES)  # enough to show the field",
        "window = None  # enough to show the field",
        "the window bounds how far a refused body is read (speed); the field shown is cut at 2 * MAX_FIELD_BYTES either way",
    ),
    Equivalent(
        CODEC,
        'ends = [i for i in (text.find(b",", at, window), text.find(b"\\n", at, window), text.find(b"\\r", at, window)) if i >= 0]',
        'ends = [i for i in (text.find(b",", at, window), text.find(b"\\n", at, window), text.find(b"\\r", at, window)) if i > 0]',
        "a separator found from `at` is at `at` or later, and the byte at `at` is the refused one, never a separator: 0 is never found",
    ),
    Equivalent(
        CODEC,
        'where = _column(feature_names, index) if index < len(feature_names) else f"column {index + 1}"',
        None,
        _SHAPE_CHECKED,
        "_refuse_field",
    ),
    Equivalent(CODEC, "row, column = (int(i[0]) for i in np.nonzero(~np.isfinite(features)))", None, _MSGSPEC_REFUSES),
    Equivalent(
        CODEC, 'raise _bad(f"instance {offset + row + 1}, {_column(feature_names, column)}: not a finite number")', None, _MSGSPEC_REFUSES
    ),
    Equivalent(
        CODEC,
        "where += f\", feature {match['name']}\"",
        None,
        (
            "unreachable: msgspec names a struct field as `.name`; instances decode as lists or dicts, whose positions "
            "it writes `[3]` and `[...]`, so the `name` group never matches"
        ),
    ),
    Equivalent(
        "containers/api/hooks/traffic_checks.py",
        "predictions: tuple[Any, ...] = ()",
        "predictions: tuple[Any, ...] = None",
        "a default no caller uses: `load_golden` always passes the case's predictions, and an error case never reads them",
        "GoldenCase",
    ),
    Equivalent(
        "containers/api/hooks/traffic_checks.py",
        "error_code: str | None = None",
        "error_code: str & None = None",
        "an annotation: the module has `from __future__ import annotations`, so it is never evaluated",
        "GoldenCase",
    ),
    *(
        Equivalent(
            f"containers/api/hooks/{hook}.py",
            "@logger.inject_lambda_context(clear_state=True)",
            "@logger.inject_lambda_context(clear_state=False)",
            "the hooks add no keys to the logger (no `append_keys`), so there is no state for one invocation to leave to the next",
            "handler",
        )
        for hook in ("pre_traffic", "post_traffic")
    ),
    Equivalent(
        "components/endpoint/release.py",
        "delete_superseded: bool = True",
        "delete_superseded: bool = False",
        "a default no caller uses: `ReleaseSpec.from_props`, the provider's only constructor, passes every field",
        "ReleaseSpec",
    ),
    Equivalent(
        "tools/promote/approval.py",
        "best: tuple[int, str] | None = None",
        "best: tuple[int, str] & None = None",
        "the annotation of a local variable: Python never evaluates it",
        "newest_approved",
    ),
    *(
        Equivalent(
            "tools/promote/lineage.py",
            'version=int(package.get("ModelPackageVersion") or arn.rsplit("/", 1)[-1]),',
            mutated,
            reason,
            "package_facts",
        )
        for mutated, reason in (
            ('version=int(package.get("XXModelPackageVersionXX") or arn.rsplit("/", 1)[-1]),', _SAME_VERSION),
            ('version=int(package.get("ModelPackageVersion") or arn.rsplit("/", 2)[-1]),', _LAST_PART),
            ('version=int(package.get("ModelPackageVersion") or arn.rsplit("/", 1)[+1]),', _LAST_PART),
        )
    ),
    Equivalent(
        "tools/promote/lineage.py",
        'image_digest=container.get("ImageDigest") or (image.split("@", 1)[1] if "@" in image else "not pinned by digest"),',
        'image_digest=container.get("ImageDigest") or (image.split("@", 2)[1] if "@" in image else "not pinned by digest"),',
        "an image reference holds one `@` at most (name@digest): one split or two give the same second part",
        "package_facts",
    ),
    Equivalent(
        "tools/promote/evidence.py",
        'if int(arn.rsplit("/", 1)[-1]) not in history:',
        'if int(arn.rsplit("/", 2)[-1]) not in history:',
        "the last part of the ARN `...:model-package/<group>/<version>` is the same whether it is split once or twice",
        "verify_evidence",
    ),
    Equivalent(
        "tools/promote/pins.py",
        'return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60)',
        'return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=61)',
        "the bound on a hung git (the local repository's `show`, `rev-list`, `merge-base` answer in milliseconds): 60 or 61 s "
        "abandons it all the same",
        "_git",
    ),
    Equivalent(
        "tools/promote/artifact.py",
        "f\"model package version {version}: cannot read {url} to check its bytes ({error.get('Code')}: {error.get('Message', '')})\"",
        "f\"model package version {version}: cannot read {url} to check its bytes ({error.get('Code')}: {error.get('Message', 'XXXX')})\"",
        "the default is never read: S3's error document carries a Message, and botocore gives an error without a body the "
        "HTTP reason phrase as its Message",
        "check_artifact",
    ),
    *(
        Equivalent(
            "tools/promote/artifact.py",
            'return str(described.get("ModelPackageVersion") or described["ModelPackageArn"].rsplit("/", 1)[-1])',
            mutated,
            reason,
            "_version",
        )
        for mutated, reason in (
            ('return str(described.get("XXModelPackageVersionXX") or described["ModelPackageArn"].rsplit("/", 1)[-1])', _SAME_VERSION),
            ('return str(described.get("ModelPackageVersion") or described["ModelPackageArn"].rsplit("/", 2)[-1])', _LAST_PART),
            ('return str(described.get("ModelPackageVersion") or described["ModelPackageArn"].rsplit("/", 1)[+1])', _LAST_PART),
        )
    ),
    Equivalent(
        "components/shared/release_provider.py",
        "ClientFactory = Callable[[str, str], Any]",
        None,
        "a type alias read only in annotations (`client_factory: Optional[ClientFactory]`), which the module's "
        "`from __future__ import annotations` leaves unevaluated",
    ),
    Equivalent(
        "components/shared/release_provider.py",
        'return StructureShape(f"{shape.name}{member}", model, shape_resolver=shape._shape_resolver)',
        'return StructureShape(f"XX{shape.name}{member}XX", model, shape_resolver=shape._shape_resolver)',
        "the name of the one-member shape built for validation: botocore's report names the parameter (its member), "
        "never the shape holding it",
        "_only",
    ),
    *(
        Equivalent(
            "components/api/canary_api.py",
            f'"{key}": aws.cloudwatch.MetricAlarm(',
            f'"XX{key}XX": aws.cloudwatch.MetricAlarm(',
            "CanaryApi.alarms is read as values only (the CodeDeploy group's alarm list, the release's depends_on, the "
            "dashboard's alarm widgets in __main__.py): no key is looked up or exported",
            "CanaryApi._alarms",
        )
        for key in ("errors", "duration", "api_5xx")
    ),
    Equivalent(
        "components/api/lambda_release.py",
        "return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)",
        "return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=True)",
        "with `replaces=[]` the release is never replaced, and the engine reads deleteBeforeReplace only for a replacement",
        "LambdaCanaryReleaseProvider.diff",
    ),
)

# The policy pack's (policies/guardrails/), kept in their own list so that it and the one above grow apart.
_LAST_PART = "the last part of an `rsplit` is the text after the last separator whatever the number of splits allowed"

POLICY_EQUIVALENTS: tuple[Equivalent, ...] = (
    Equivalent(
        "policies/guardrails/s3.py",
        "problems.append(f\"{get_path(grant, 'permission')} to {str(uri).rsplit('/', 1)[-1]}\")",
        "problems.append(f\"{get_path(grant, 'permission')} to {str(uri).rsplit('/', 2)[-1]}\")",
        _LAST_PART,
    ),
    Equivalent(
        "policies/guardrails/lambda_.py",
        'principal = str(args.props.get("principal") or "")',
        'principal = str(args.props.get("principal") or "XXXX")',
        "a permission without a principal reads as a text that is neither '*' nor a service's (`.amazonaws.com`): "
        "neither branch reports it, whichever text it is",
        "_permission",
    ),
    Equivalent(
        "policies/guardrails/codedeploy.py",
        '(c for c in view.of_type(CUSTOM_CONFIG) if view.refers_to(group, "deploymentConfigName", c, "deploymentConfigName", "id")), None',
        '(c for c in view.of_type(CUSTOM_CONFIG) if view.refers_to(group, "deploymentConfigName", c, "deploymentConfigName", "XXidXX")), None',
        "pulumi-aws gives a DeploymentConfig its deploymentConfigName (an input, known before the id is) as its id: "
        "a reference equal to the id is equal to the name, which is compared first",
    ),
    Equivalent(
        "policies/guardrails/cognito.py",
        'MFA_RANK = {"OFF": 0, "OPTIONAL": 1, "ON": 2}',
        'MFA_RANK = {"XXOFFXX": 0, "OPTIONAL": 1, "ON": 2}',
        "a level not in the table ranks 0 (`MFA_RANK.get(level, 0)`), as OFF does; and the config schema's enum "
        "(OPTIONAL, ON) keeps OFF from being the required level",
    ),
    Equivalent(
        "policies/guardrails/cognito.py",
        'MFA_RANK = {"OFF": 0, "OPTIONAL": 1, "ON": 2}',
        'MFA_RANK = {"OFF": 0, "OPTIONAL": 1, "ON": 3}',
        "the ranks are only compared with each other (`<`), and ON stays the highest",
    ),
    Equivalent(
        "policies/guardrails/alb.py",
        'return action.get("type") == "redirect" and str(get_path(action, "redirect", "protocol") or "").upper() == "HTTPS"',
        'return action.get("type") == "redirect" and str(get_path(action, "redirect", "protocol") or "XXXX").upper() == "HTTPS"',
        "the text that stands for a redirect without a protocol (ALB keeps the request's: HTTP) is only compared with "
        "HTTPS, which neither text is",
    ),
    Equivalent(
        "policies/guardrails/cost_estimate.py",
        "return round(sum(cost for _, cost in self.items), 2)",
        "return round(sum(cost for _, cost in self.items), 3)",
        "every item is rounded to cents when added, so the sum is a whole number of cents but for float error far below "
        "a thousandth: rounded to 3 places it is the same float as rounded to 2",
        "Estimate.total",
    ),
    Equivalent(
        "policies/guardrails/iam.py",
        'if isinstance(inline, Mapping) and inline.get("policy"):',
        'if isinstance(inline, Mapping) or inline.get("policy"):',
        "an inline policy without a document yields none either way (the statements of nothing are none), and an entry "
        "that is not an object is refused by the provider's Check before the pack sees the role",
        "documents",
    ),
    Equivalent(
        "policies/guardrails/iam.py",
        'name = arn.rsplit("/", 1)[-1]',
        'name = arn.rsplit("/", 1)[+1]',
        "the ARN holds `:iam::aws:policy/` (checked just above), so splitting once at the last `/` gives exactly two parts",
        "_forbidden_managed",
    ),
    Equivalent(
        "policies/guardrails/iam.py",
        'require_condition = bool(args.get_config().get("requirePassedToService", True))',
        'require_condition = bool(args.get_config().get("requirePassedToService", False))',
        "the engine gives the pack the config schema's default (True, declared and tested) when a stack sets none, so the "
        "fallback is never read",
        "_pass_role",
    ),
)
EQUIVALENTS += POLICY_EQUIVALENTS


def reason_for(mutant: Mutant) -> Optional[str]:
    for entry in EQUIVALENTS:
        if (
            (entry.path, entry.original) == (mutant.path, mutant.original.strip())
            and entry.mutated in (None, mutant.mutated.strip())
            and entry.scope in (None, mutant.scope)
        ):
            return entry.reason
    return None


def markdown_table() -> str:
    rows = ["| file (function) | mutation | why it changes nothing observable |", "|---|---|---|"]
    for e in EQUIVALENTS:
        after = "any change" if e.mutated is None else f"`{e.mutated}`" if e.mutated else "(removed)"
        change = f"`{e.original}` → {after}".replace("|", "\\|")
        where = f"`{e.path}` (`{e.scope}`)" if e.scope else f"`{e.path}`"
        rows.append(f"| {where} | {change} | {e.reason} |")
    return "\n".join(rows) + "\n"
