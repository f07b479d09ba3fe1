"""Request decoding, property-based: valid input round-trips exactly, anything else is a clean
client error (RequestError), never an exception that would reach the server as a 500."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

N = 10  # len(FEATURE_NAMES), checked below
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
matrices = st.lists(st.lists(finite, min_size=N, max_size=N), min_size=1, max_size=20)


def _names() -> list[str]:
    from churn.schema import FEATURE_NAMES

    assert len(FEATURE_NAMES) == N
    return list(FEATURE_NAMES)


@settings(max_examples=60, deadline=None)
@given(matrices)
def test_csv_and_json_round_trip_exactly(rows):
    from churn import codec

    expected = np.array(rows, dtype=np.float64)
    csv = "".join(",".join(repr(v) for v in row) + "\n" for row in rows).encode()
    np.testing.assert_array_equal(codec.parse_csv(csv, None, _names()), expected)
    body = json.dumps({"instances": rows}).encode()
    np.testing.assert_array_equal(codec.parse_json(body, None, _names()), expected)
    by_name = json.dumps({"instances": [dict(zip(_names(), row)) for row in rows]}).encode()
    np.testing.assert_array_equal(codec.parse_json(by_name, "utf-8", _names()), expected)


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.binary(max_size=300), st.text(alphabet="0123456789.,-+eE naif_\r\n\"[]{}:", max_size=300).map(str.encode)))
def test_arbitrary_bodies_are_decoded_or_refused_cleanly(body):
    from churn import codec

    for parse in (codec.parse_csv, codec.parse_json):
        try:
            features = parse(body, None, _names())
        except codec.RequestError as error:
            assert error.status == 400 and error.message
        else:
            assert features.dtype == np.float64 and features.ndim == 2 and features.shape[1] == N
            assert np.isfinite(features).all()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["text/csv", "application/json", "text/*", "*/*", "application/xml",
                                 "text/html", "application/*"]), min_size=1, max_size=4),
       st.lists(st.sampled_from(["", ";q=0", ";q=0.5", ";q=1", ";q=x"]), min_size=4, max_size=4))
def test_accept_negotiation_answers_a_supported_type_or_406(types, qualities):
    from churn import codec

    header = ", ".join(t + q for t, q in zip(types, qualities))
    try:
        chosen = codec.negotiate_accept(header)
    except codec.RequestError as error:
        assert error.status == 406
    else:
        assert chosen in (codec.CSV, codec.JSON)


@settings(max_examples=150, deadline=None)
@given(st.one_of(
    st.lists(finite, min_size=N, max_size=N).map(lambda row: (",".join(map(repr, row)) + "\n").encode()),
    st.text(alphabet="0123456789.,-+eE naif_\r\n", max_size=120).map(str.encode),
))
def test_the_one_row_fast_path_agrees_with_the_general_parser(body):
    from churn import codec

    fast = codec.parse_csv_row(body, None, N)
    try:
        general = codec.parse_csv(body, None, _names())
    except codec.RequestError:
        assert fast is None  # whatever the general parser refuses, the fast path must not accept
        return
    if fast is not None:
        np.testing.assert_array_equal(np.array([fast]), general)
