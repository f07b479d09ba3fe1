"""Property: whatever a client sends, the handler answers JSON, and never a 5xx.

The model stand-in always answers correctly, so any 5xx (or any exception) here would be the
handler blaming itself or the model for the client's input. Generated requests mix wholly random
text and bytes with near-valid payloads (right shape, random values and lengths), since the latter
reach the deep validation paths that random text never does.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from unittest import mock

from api_testkit import FEATURE_NAMES, FakeContext, FakeRuntime, api_event, predict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

N = len(FEATURE_NAMES)

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)
numbers = st.integers(-(10**20), 10**20) | st.floats(allow_nan=True, allow_infinity=True)
cells = numbers | st.booleans() | st.none() | st.text(max_size=5)
rows_of_arrays = st.lists(
    st.lists(cells, min_size=N - 1, max_size=N + 1) | st.lists(numbers, min_size=N, max_size=N),
    min_size=0,
    max_size=60,
)
rows_of_objects = st.lists(
    st.dictionaries(st.sampled_from(FEATURE_NAMES + ("extra",)), cells, min_size=N - 1, max_size=N + 1)
    | st.fixed_dictionaries(dict.fromkeys(FEATURE_NAMES, numbers)),
    min_size=0,
    max_size=5,
)


def _csv(rows: list[list[Any]]) -> str:
    return "\n".join(",".join(str(v) for v in row) for row in rows)


bodies = st.one_of(
    st.text(max_size=300),
    json_values.map(json.dumps),
    st.builds(lambda rows: json.dumps({"instances": rows}, allow_nan=True), rows_of_arrays),
    st.builds(lambda rows: json.dumps({"instances": rows}, allow_nan=True), rows_of_objects),
    st.builds(_csv, rows_of_arrays),
    st.none(),
)
content_types = st.one_of(
    st.sampled_from(
        [
            "application/json",
            "text/csv",
            "application/json; charset=utf-8",
            "text/csv; charset=ISO-8859-1",
            "TEXT/CSV",
            "text/plain",
            "multipart/form-data; boundary=x",
            ";",
            "",
        ]
    ),
    st.text(max_size=30),
    st.none(),
)
extra_headers = st.dictionaries(
    st.text(min_size=1, max_size=20).filter(lambda k: k.lower() != "content-type"), st.text(max_size=40), max_size=4
)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    method = draw(st.sampled_from(["POST"] * 8 + ["GET", "PUT", "post", "DELETE"]))
    body = draw(bodies)
    encoded = draw(st.booleans())
    if encoded:
        raw = body.encode("utf-8") if body is not None else draw(st.binary(max_size=200))
        if draw(st.booleans()):
            raw = draw(st.binary(max_size=200))
        body = base64.b64encode(raw).decode()
        if draw(st.integers(0, 9)) == 0:
            body = body[:-1] + "!"  # corrupt base64
    return api_event(body, draw(content_types), method=method, base64_encoded=encoded, headers=draw(extra_headers))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=requests())
def test_any_client_input_gets_json_and_no_5xx(event):
    runtime = FakeRuntime(probability=0.25)
    with mock.patch.object(predict, "RUNTIME", runtime):
        response = predict.handler(event, FakeContext())

    assert response["statusCode"] < 500, response
    assert response["headers"]["Content-Type"] == "application/json"
    payload = json.loads(response["body"])
    if response["statusCode"] == 200:
        assert len(runtime.calls) == 1
        assert len(payload["predictions"]) == len(runtime.calls[0]["Body"].split(b"\n"))
        assert payload["model_version"] == "7"
    else:
        assert runtime.calls == []  # refused before the model was called
        assert set(payload) == {"error"}
        assert isinstance(payload["error"]["code"], str) and isinstance(payload["error"]["message"], str)
        assert "Traceback" not in response["body"]


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(st.lists(numbers.filter(lambda v: v == v and abs(v) != float("inf")), min_size=N, max_size=N), min_size=1, max_size=50)
)
def test_valid_rows_reach_the_model_unchanged(rows):
    """JSON and CSV of the same numbers give the same canonical CSV, which reads back exactly."""
    runtime = FakeRuntime()
    with mock.patch.object(predict, "RUNTIME", runtime):
        as_json = predict.handler(api_event(json.dumps({"instances": rows})), FakeContext())
        as_csv = predict.handler(api_event(_csv([[repr(float(v)) for v in row] for row in rows]), "text/csv"), FakeContext())
    assert as_json["statusCode"] == as_csv["statusCode"] == 200
    sent_json, sent_csv = (call["Body"] for call in runtime.calls)
    assert sent_json == sent_csv
    decoded = [[float(v) for v in line.split(",")] for line in sent_json.decode().split("\n")]
    assert decoded == [[float(v) for v in row] for row in rows]
