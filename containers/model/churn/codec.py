"""Request bodies in, response bodies out, for /invocations.

Valid input is decoded on a fast path (one numpy conversion for CSV, one typed msgspec decode for
JSON). Only when that fails does a slow path walk the rows to say exactly what is wrong — which
row, which column (by position and feature name), which value — so bad requests cost nothing
extra for good ones and a client never has to guess.
"""

from __future__ import annotations

import codecs
import functools
import math
import re
from dataclasses import dataclass

import msgspec
import numpy as np

CSV = "text/csv"
JSON = "application/json"
SUPPORTED_CONTENT_TYPES = (CSV, JSON)


class RequestError(Exception):
    """A client error: HTTP `status` with a message meant for the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _bad(message: str) -> RequestError:
    return RequestError(400, message)


# --- headers -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MediaType:
    type: str  # lower-case "type/subtype"
    charset: str | None


# Clients send the same few header values over and over: parse each distinct one once.
@functools.lru_cache(maxsize=256)
def parse_content_type(header: str | None) -> MediaType:
    """'text/csv; charset=UTF-8' -> MediaType('text/csv', 'utf-8'); 415 when unsupported."""
    if not header:
        raise RequestError(415, f"missing Content-Type: use {CSV} or {JSON}")
    media, _, params = header.partition(";")
    media = media.strip().lower()
    if media not in SUPPORTED_CONTENT_TYPES:
        raise RequestError(415, f"unsupported Content-Type {media!r}: use {CSV} or {JSON}")
    charset = None
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"').lower() or None
    if charset is not None:
        try:
            charset = codecs.lookup(charset).name
        except LookupError:
            raise RequestError(415, f"unsupported charset {charset!r}") from None
    return MediaType(media, charset)


@functools.lru_cache(maxsize=256)
def negotiate_accept(header: str | None) -> str:
    """Pick the response type from Accept (q-values honoured); JSON when absent or indifferent."""
    if not header:
        return JSON
    best, best_q = None, 0.0
    for item in header.split(","):
        media, _, params = item.partition(";")
        media = media.strip().lower()
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media in ("*/*", "application/*"):
            candidate = JSON
        elif media == "text/*":
            candidate = CSV
        elif media in SUPPORTED_CONTENT_TYPES:
            candidate = media
        else:
            continue
        # Equal q: the first listed wins, as clients list their preference first.
        if q > best_q:
            best, best_q = candidate, q
    if best is None:
        raise RequestError(406, f"cannot answer with {header!r}: this endpoint returns {JSON} or {CSV}")
    return best


# --- CSV -----------------------------------------------------------------------------------------


def parse_csv(body: bytes, charset: str | None, feature_names: list[str]) -> np.ndarray:
    """Rows of comma-separated numbers, no header, one row per line."""
    try:
        text = body.decode(charset or "utf-8")
    except UnicodeDecodeError as error:
        raise _bad(f"body is not valid {charset or 'utf-8'} text: {error.reason} at byte {error.start}") from None
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise _bad(f"empty body: send one row of {len(feature_names)} comma-separated numbers per line")
    try:
        if "_" in text:  # Python's float() takes "1_000"; a CSV number does not
            raise ValueError
        if len(lines) == 1:
            # One row: float() per field and a plain sum to screen for NaN/infinity cost a few µs,
            # several times less than numpy's per-call overhead for the same checks.
            values = list(map(float, lines[0].split(",")))
            features = np.array([values])
            finite = math.isfinite(sum(values)) or all(map(math.isfinite, values))  # sum may overflow
        else:
            # Many rows: numpy's C tokenizer; it also rejects rows of differing length.
            features = np.loadtxt(lines, delimiter=",", dtype=np.float64, comments=None, ndmin=2)
            finite = bool(np.isfinite(features).all())
    except ValueError:
        features, finite = None, False
    # loadtxt skips blank rows: the shape check refuses them.
    if not finite or features is None or features.shape != (len(lines), len(feature_names)):
        raise _bad(_explain_csv([line.split(",") for line in lines], feature_names))
    return features


def parse_csv_row(body: bytes, charset: str | None, n_features: int) -> list[float] | None:
    """The endpoint's common case, decoded without numpy: the values of a body that is exactly
    one valid row, or None — then `parse_csv` decides, and explains what is wrong."""
    try:
        line = body.decode(charset or "utf-8").rstrip()
    except UnicodeDecodeError:
        return None
    if "\n" in line or "\r" in line or "_" in line:
        return None
    try:
        values = list(map(float, line.split(",")))
    except ValueError:
        return None
    # NaN or infinity make the sum non-finite (as may an overflow, which parse_csv then accepts).
    if len(values) != n_features or not math.isfinite(sum(values)):
        return None
    return values


def _column(feature_names: list[str], index: int) -> str:
    return f"column {index + 1} ({feature_names[index]})"


def _explain_csv(rows: list[list[str]], feature_names: list[str]) -> str:
    n = len(feature_names)
    if [cell.strip() for cell in rows[0]] == feature_names:
        return "row 1 is a header: send rows of numbers only, in the feature order " + ",".join(feature_names)
    for number, row in enumerate(rows, start=1):
        if len(row) == 1 and not row[0].strip():
            return f"row {number} is empty"
        if len(row) != n:
            return f"row {number} has {len(row)} values, expected {n}: {','.join(feature_names)}"
        for index, cell in enumerate(row):
            problem = _number_problem(cell)
            if problem:
                return f"row {number}, {_column(feature_names, index)}: {cell.strip()!r} {problem}"
    return "body is not rows of comma-separated numbers"


def _number_problem(cell: str) -> str | None:
    try:
        if "_" in cell:
            raise ValueError
        value = float(cell)
    except ValueError:
        return "is not a number"
    return None if np.isfinite(value) else "is not a finite number"


# --- JSON ----------------------------------------------------------------------------------------


class _Instances(msgspec.Struct, forbid_unknown_fields=True):
    instances: list[list[float] | dict[str, float]]


_decode_instances = msgspec.json.Decoder(_Instances).decode
_decode_any = msgspec.json.Decoder().decode


def parse_json(body: bytes, charset: str | None, feature_names: list[str]) -> np.ndarray:
    """{"instances": [[v, ...], ...]} or {"instances": [{"feature": v, ...}, ...]} (or a mix)."""
    if charset not in (None, "utf-8"):
        try:
            body = body.decode(charset).encode("utf-8")
        except UnicodeDecodeError as error:
            raise _bad(f"body is not valid {charset} text: {error.reason} at byte {error.start}") from None
    try:
        instances = _decode_instances(body).instances
    except msgspec.ValidationError as error:
        try:
            document = _decode_any(body)
        except msgspec.MsgspecError:  # even untyped, a value is unreadable (e.g. 1e999)
            raise _bad(_locate(str(error), feature_names)) from None
        raise _bad(_explain_json(document, feature_names)) from None
    except msgspec.DecodeError as error:
        raise _bad(f"malformed JSON: {error}") from None
    if not instances:
        raise _bad('"instances" is empty: send at least one row')
    n = len(feature_names)
    rows: list[list[float]] = []
    for number, instance in enumerate(instances, start=1):
        if isinstance(instance, dict):
            rows.append(_row_from_mapping(number, instance, feature_names))
        elif len(instance) != n:
            raise _bad(f"instance {number} has {len(instance)} values, expected {n}: {','.join(feature_names)}")
        else:
            rows.append(instance)
    features = np.array(rows, dtype=np.float64)
    if not np.isfinite(features).all():  # msgspec refuses NaN, Infinity and 1e999; this keeps it so
        row, column = (int(i[0]) for i in np.nonzero(~np.isfinite(features)))
        raise _bad(f"instance {row + 1}, {_column(feature_names, column)}: not a finite number")
    return features


def _row_from_mapping(number: int, instance: dict[str, float], feature_names: list[str]) -> list[float]:
    try:
        row = [instance[name] for name in feature_names]
    except KeyError:
        missing = [name for name in feature_names if name not in instance]
        raise _bad(f"instance {number} is missing feature(s) {', '.join(missing)}") from None
    if len(instance) != len(feature_names):
        extra = sorted(set(instance) - set(feature_names))
        raise _bad(f"instance {number} has unknown feature(s) {', '.join(extra)}; known: {','.join(feature_names)}")
    return row


_PATH = re.compile(r"^(?P<what>.*?) - at `\$\.instances\[(?P<row>\d+)\](?:\[(?P<column>\d+)\]|(?P<key>\[\.\.\.\])|\.(?P<name>\w+))?`$")


def _locate(message: str, feature_names: list[str]) -> str:
    """msgspec's "Number out of range - at `$.instances[0][3]`" -> "instance 1, column 4 (...): ..."."""
    match = _PATH.match(message)
    if not match:
        return f"invalid JSON value: {message}"
    where = f"instance {int(match['row']) + 1}"
    if match["column"] is not None:
        index = int(match["column"])
        where += ", " + (_column(feature_names, index) if index < len(feature_names) else f"column {index + 1}")
    elif match["name"] is not None:
        where += f", feature {match['name']}"
    elif match["key"] is not None:
        where += ", a feature value"
    return f"{where}: {match['what'].lower()}"


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _explain_json(document: object, feature_names: list[str]) -> str:
    shape = 'expected {"instances": [[v, ...], ...]} or {"instances": [{"feature": v, ...}, ...]}'
    if not isinstance(document, dict) or "instances" not in document:
        return f"{shape}"
    unknown = sorted(set(document) - {"instances"})
    if unknown:
        return f"unknown field(s) {', '.join(unknown)}: {shape}"
    instances = document["instances"]
    if not isinstance(instances, list):
        return f'"instances" must be a list: {shape}'
    for number, instance in enumerate(instances, start=1):
        if isinstance(instance, list):
            for index, value in enumerate(instance):
                if not _is_number(value):
                    where = _column(feature_names, index) if index < len(feature_names) else f"column {index + 1}"
                    return f"instance {number}, {where}: {value!r} is not a number"
        elif isinstance(instance, dict):
            for name, value in instance.items():
                if not _is_number(value):
                    return f"instance {number}, feature {name}: {value!r} is not a number"
        else:
            return f"instance {number} must be a list of numbers or an object of feature: number"
    return shape


# --- responses -----------------------------------------------------------------------------------

_encode = msgspec.json.Encoder().encode


def encode_predictions(probabilities: np.ndarray, accept: str) -> bytes:
    values = probabilities.tolist()
    if accept == CSV:
        return ("\n".join(map(repr, values)) + "\n").encode()
    return _encode({"predictions": [{"churn_probability": v} for v in values]})


def encode_prediction(probability: float, accept: str) -> bytes:
    """One row's answer, in the same shapes as `encode_predictions`."""
    if accept == CSV:
        return f"{probability!r}\n".encode()
    return _encode({"predictions": [{"churn_probability": probability}]})


def encode_error(message: str) -> bytes:
    return _encode({"error": message})
