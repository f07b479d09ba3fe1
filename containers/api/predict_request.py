"""Validation of a `POST /predict` request into rows of finite numbers, before any model call.

Everything a client can get wrong is caught here and answered with a 4xx `ApiError` naming the
place (`instances[3][2]`, `line 4, column 2`) and what was expected. The endpoint then only ever
receives canonical header-less CSV in model feature order, which is also the form Model Monitor's
data-quality job reads from data capture.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from predict_errors import (
    INVALID_REQUEST,
    METHOD_NOT_ALLOWED,
    PAYLOAD_TOO_LARGE,
    UNSUPPORTED_MEDIA_TYPE,
    ApiError,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.api_gateway_proxy_event import (
        APIGatewayProxyEventV2,
    )
    from predict_config import Settings

JSON = "application/json"
CSV = "text/csv"
SUPPORTED_MEDIA_TYPES = (JSON, CSV)
_UTF8_CHARSETS = ("utf-8", "utf8", "us-ascii", "ascii")


@dataclass(frozen=True)
class PredictRequest:
    rows: tuple[tuple[float, ...], ...]
    media_type: str

    def to_csv(self) -> bytes:
        # repr() is the shortest text that reads back as the same float: nothing is rounded away.
        return "\n".join(",".join(map(repr, row)) for row in self.rows).encode("ascii")


def _short(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[:limit] + "..."


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "number"


def _media_type(content_type: str | None) -> str:
    if not content_type:
        raise ApiError(
            UNSUPPORTED_MEDIA_TYPE,
            f"Content-Type is missing; send {JSON} or {CSV}",
        )
    media, *params = (part.strip() for part in content_type.split(";"))
    media = media.lower()
    if media not in SUPPORTED_MEDIA_TYPES:
        raise ApiError(
            UNSUPPORTED_MEDIA_TYPE,
            f"Content-Type {_short(media)!r} is not supported; send {JSON} or {CSV}",
        )
    for param in params:
        key, _, value = param.partition("=")
        charset = value.strip().strip('"').lower()
        if key.strip().lower() == "charset" and charset not in _UTF8_CHARSETS:
            raise ApiError(
                UNSUPPORTED_MEDIA_TYPE,
                f"charset {_short(charset)!r} is not supported; send UTF-8",
            )
    return media


def _body_text(event: APIGatewayProxyEventV2, max_bytes: int) -> str:
    raw = event.body or ""
    # Cheap bounds first, so an oversized body is refused before it is decoded or copied: a str of
    # n characters is at least n UTF-8 bytes, and base64 text is 4/3 the size of what it encodes.
    limit = 4 * (max_bytes // 3 + 1) if event.is_base64_encoded else max_bytes
    if len(raw) > limit:
        raise ApiError(PAYLOAD_TOO_LARGE, f"request body exceeds {max_bytes} bytes")
    try:
        text = event.decoded_body or ""
        size = len(text.encode("utf-8"))
    except (ValueError, UnicodeError):
        # binascii.Error (bad base64) is a ValueError; UnicodeError covers undecodable bytes and
        # lone surrogates.
        raise ApiError(INVALID_REQUEST, "request body is not valid UTF-8 text") from None
    if size > max_bytes:
        raise ApiError(PAYLOAD_TOO_LARGE, f"request body exceeds {max_bytes} bytes")
    if not text.strip():
        raise ApiError(INVALID_REQUEST, "request body is empty")
    return text


def _number(value: Any, where: str) -> float:
    # bool is an int subclass in Python but not a number in JSON: refuse it explicitly.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if math.isfinite(number):
            return number
        raise ApiError(INVALID_REQUEST, f"{where}: {_short(str(value))} is not a finite number")
    raise ApiError(INVALID_REQUEST, f"{where}: expected a number, got {_json_type(value)}")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _check_row_count(count: int, settings: Settings) -> None:
    if count == 0:
        raise ApiError(INVALID_REQUEST, "no rows to predict")
    if count > settings.max_rows:
        raise ApiError(PAYLOAD_TOO_LARGE, f"{count} rows exceed the limit of {settings.max_rows} per request")


def _array_row(row: list[Any], index: int, settings: Settings) -> tuple[float, ...]:
    if len(row) != settings.feature_count:
        raise ApiError(
            INVALID_REQUEST,
            f"instances[{index}]: expected {settings.feature_count} features, got {len(row)}",
        )
    return tuple(_number(v, f"instances[{index}][{j}]") for j, v in enumerate(row))


def _object_row(row: dict[str, Any], index: int, settings: Settings) -> tuple[float, ...]:
    names = settings.feature_names
    if names is None:
        raise ApiError(
            INVALID_REQUEST,
            f"instances[{index}]: rows must be arrays of {settings.feature_count} numbers (named features are not configured for this API)",
        )
    missing = [n for n in names if n not in row]
    if missing:
        raise ApiError(
            INVALID_REQUEST,
            f"instances[{index}]: missing feature(s) {_short(', '.join(missing), 200)}",
        )
    if len(row) != len(names):
        unknown = [_short(k) for k in row if k not in names]
        raise ApiError(
            INVALID_REQUEST,
            f"instances[{index}]: unknown feature(s) {_short(', '.join(unknown), 200)}",
        )
    return tuple(_number(row[n], f"instances[{index}].{n}") for n in names)


def _parse_json(text: str, settings: Settings) -> tuple[tuple[float, ...], ...]:
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ApiError(
            INVALID_REQUEST,
            f"body is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})",
        ) from None
    except (ValueError, RecursionError):
        # NaN/Infinity constants, integers too long to convert, or nesting too deep to parse.
        raise ApiError(INVALID_REQUEST, "body is not valid JSON") from None

    if not isinstance(document, dict) or "instances" not in document:
        raise ApiError(INVALID_REQUEST, 'expected a JSON object {"instances": [...]}')
    unknown = [_short(str(k)) for k in document if k != "instances"]
    if unknown:
        raise ApiError(INVALID_REQUEST, f"unknown field(s): {_short(', '.join(unknown), 200)}")
    instances = document["instances"]
    if not isinstance(instances, list):
        raise ApiError(INVALID_REQUEST, f"instances: expected an array, got {_json_type(instances)}")
    _check_row_count(len(instances), settings)

    first = instances[0]
    if isinstance(first, list):
        shape, parse_row = list, _array_row
    elif isinstance(first, dict):
        shape, parse_row = dict, _object_row
    else:
        raise ApiError(
            INVALID_REQUEST,
            f"instances[0]: expected an array or an object, got {_json_type(first)}",
        )
    rows = []
    for i, row in enumerate(instances):
        if not isinstance(row, shape):
            raise ApiError(
                INVALID_REQUEST,
                f"instances[{i}]: expected an {'array' if shape is list else 'object'} like instances[0], got {_json_type(row)}",
            )
        rows.append(parse_row(row, i, settings))
    return tuple(rows)


def _parse_csv(text: str, settings: Settings) -> tuple[tuple[float, ...], ...]:
    rows: list[tuple[float, ...]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue  # blank lines, including the trailing newline, carry no row
        cells = line.split(",")
        if len(cells) != settings.feature_count:
            raise ApiError(
                INVALID_REQUEST,
                f"line {lineno}: expected {settings.feature_count} values, got {len(cells)}",
            )
        values = []
        for column, cell in enumerate(cells, start=1):
            try:
                value = float(cell)  # tolerates surrounding whitespace, nothing else
            except ValueError:
                hint = " (send rows only, no header)" if lineno == 1 else ""
                raise ApiError(
                    INVALID_REQUEST,
                    f"line {lineno}, column {column}: {_short(cell.strip())!r} is not a number{hint}",
                ) from None
            if not math.isfinite(value):
                raise ApiError(
                    INVALID_REQUEST,
                    f"line {lineno}, column {column}: {_short(cell.strip())!r} is not a finite number",
                )
            values.append(value)
        rows.append(tuple(values))
        if len(rows) > settings.max_rows:
            _check_row_count(len(rows), settings)
    _check_row_count(len(rows), settings)
    return tuple(rows)


def parse_request(event: APIGatewayProxyEventV2, settings: Settings) -> PredictRequest:
    """Validate method, media type, size and content; raise `ApiError` for the first problem."""
    if event.http_method.upper() != "POST":
        raise ApiError(METHOD_NOT_ALLOWED, "use POST /predict")
    media = _media_type(event.headers.get("content-type"))
    text = _body_text(event, settings.max_body_bytes)
    rows = _parse_json(text, settings) if media == JSON else _parse_csv(text, settings)
    return PredictRequest(rows=rows, media_type=media)
