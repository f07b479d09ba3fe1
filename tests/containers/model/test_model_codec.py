"""Request decoding, property-based: valid input round-trips exactly, anything else is a clean
client error (RequestError), never an exception that would reach the server as a 500."""

from __future__ import annotations

import ast
import codecs
import json
import re
from pathlib import Path

import numpy as np
import pytest
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
@given(st.one_of(st.binary(max_size=300), st.text(alphabet='0123456789.,-+eE naif_\r\n"[]{}:', max_size=300).map(str.encode)))
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
@given(
    st.lists(
        st.sampled_from(["text/csv", "application/json", "text/*", "*/*", "application/xml", "text/html", "application/*"]),
        min_size=1,
        max_size=4,
    ),
    st.lists(st.sampled_from(["", ";q=0", ";q=0.5", ";q=1", ";q=x"]), min_size=4, max_size=4),
)
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
@given(
    st.one_of(
        st.lists(finite, min_size=N, max_size=N).map(lambda row: (",".join(map(repr, row)) + "\n").encode()),
        st.text(alphabet="0123456789.,-+eE naif_\r\n", max_size=120).map(str.encode),
    )
)
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


# --- input edges: what a SageMaker client sends (see docs/model-container.md) -----------------------

ROW = "12,0,0,350.5,3.2,40.1,480.2,2,0,1"
ROW_VALUES = [12.0, 0.0, 0.0, 350.5, 3.2, 40.1, 480.2, 2.0, 0.0, 1.0]


@pytest.mark.parametrize(
    ("body", "charset"),
    [
        (ROW, None),
        ("\ufeff" + ROW, None),  # Excel's "CSV UTF-8" starts with a byte order mark
        ("\ufeff" + ROW, "utf-8"),
        ('"12","0","0","350.5","3.2","40.1","480.2","2","0","1"', None),  # RFC 4180 quoting, all fields
        ('12,"0",0,350.5,3.2,40.1,480.2,2,0,1\r\n', None),  # RFC 4180 line end, one quoted field
        (" 12 ,\t0,0,350.5,3.2,40.1,480.2,2,0,1", None),  # ASCII space or tab around a value
        (ROW + "\r", None),
        (ROW + "\n\n\n", None),
    ],
    ids=["plain", "bom", "bom-declared-utf-8", "all-quoted", "crlf-one-quoted", "ascii-padding", "cr", "trailing-blank-lines"],
)
def test_what_csv_clients_send_is_accepted(body, charset):
    from churn import codec

    features = codec.parse_csv(body.encode("utf-8"), charset, _names())
    assert features.tolist() == [ROW_VALUES]
    fast = codec.parse_csv_row(body.encode("utf-8"), charset, N)
    assert fast is None or fast == ROW_VALUES


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("１2,0,0,350.5,3.2,40.1,480.2,2,0,1", "row 1, column 1 (tenure_months): '１2' is not a number: send ASCII digits"),
        ("12,٣,0,350.5,3.2,40.1,480.2,2,0,1", "row 1, column 2 (plan): '٣' is not a number"),
        (f"{ROW}\n12,0,0,\u00a0350.5,3.2,40.1,480.2,2,0,1", "row 2, column 4 (monthly_minutes): '\\xa0350.5' is not a number"),
        ("12,0,0,350.5\u2003,3.2,40.1,480.2,2,0,1", "row 1, column 4 (monthly_minutes): '350.5\\u2003' is not a number"),
        ("12,0,0,1_000,3.2,40.1,480.2,2,0,1", "row 1, column 4 (monthly_minutes): '1_000' is not a number"),
        ("12,0,0,inf,3.2,40.1,480.2,2,0,1", "row 1, column 4 (monthly_minutes): 'inf' is not a number"),
        (
            '12,0,0,"350,5",3.2,40.1,480.2,2,0,1',
            (
                "row 1 has 11 values, expected 10: tenure_months,plan,contract,"
                "monthly_minutes,data_gb,monthly_charges,total_charges,service_calls,international_plan,autopay "
                "(a quoted field holds one number, without commas"
            ),
        ),
        ('12,0,0,"350.5"5,3.2,40.1,480.2,2,0,1', "row 1, column 4 (monthly_minutes): '\"350.5\"5' has a quote"),
        ("\ufeff\ufeff" + ROW, "row 1, column 1 (tenure_months): '\\ufeff12' is not a number"),  # one BOM only
        (f"{ROW}\r\n12,0,0,x,3.2,40.1,480.2,2,0,1\r\n", "row 2, column 4 (monthly_minutes): 'x' is not a number"),
        (f"{ROW}\r{ROW}\r12,0,0,x,3.2,40.1,480.2,2,0,1", "row 3, column 4 (monthly_minutes): 'x' is not a number"),
        (ROW.replace("350.5", "3" * 700), "row 1 is 7"),
        (f"{ROW}\n{ROW},1\n", "row 2 has 11 values, expected 10"),
    ],
    ids=[
        "fullwidth-digit",
        "arabic-indic-digit",
        "no-break-space",
        "em-space",
        "underscore",
        "inf",
        "decimal-comma",
        "text-after-quote",
        "two-boms",
        "crlf-row-number",
        "cr-row-number",
        "row-too-long",
        "too-many-values",
    ],
)
def test_what_no_csv_client_sends_is_refused_naming_row_and_column(body, message):
    from churn import codec

    with pytest.raises(codec.RequestError) as refused:
        codec.parse_csv(body.encode("utf-8"), None, _names())
    assert refused.value.status == 400
    assert message in refused.value.message
    assert codec.parse_csv_row(body.encode("utf-8"), None, N) is None


def _documented_edges() -> list[tuple[str, str, str]]:
    """(input, example, answer) rows of the "CSV input edges" table in docs/model-container.md."""
    page = (Path(__file__).resolve().parents[3] / "docs" / "model-container.md").read_text()
    section = page.split("### CSV input edges", 1)[1].split("\n#", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        if len(cells) == 3 and cells[1].startswith("`"):
            example = re.sub(r"(\d)…\((\d+) times\)", lambda m: m[1] * int(m[2]), cells[1][1:-1])
            example = re.sub(r"\\(u[0-9a-f]{4}|x[0-9a-f]{2}|[rnt])", lambda m: ast.literal_eval(f'"\\{m[1]}"'), example)
            rows.append((cells[0], example, cells[2]))
    return rows


def test_the_documented_input_edges_are_what_the_decoder_does():
    from churn import codec

    rows = _documented_edges()
    assert len(rows) >= 15
    for name, example, answer in rows:
        if answer == "accepted":
            assert codec.parse_csv(example.encode(), None, _names()).shape == (1, N), name
            continue
        assert answer.startswith("400 `"), name
        with pytest.raises(codec.RequestError) as refused:
            codec.parse_csv(example.encode(), None, _names())
        assert refused.value.status == 400
        for part in answer[5:-1].split("…"):
            assert part.strip() in refused.value.message, (name, refused.value.message)


def test_a_declared_charset_is_decoded_and_judged_by_the_same_rules():
    from churn import codec

    assert codec.parse_csv(ROW.encode("utf-16"), "utf-16", _names()).tolist() == [ROW_VALUES]
    with pytest.raises(codec.RequestError, match="'１2' is not a number"):
        codec.parse_csv(("１" + ROW[1:]).encode("utf-16"), "utf-16", _names())


# --- cost: shape before numbers, one parse, bounded chunks --------------------------------------------


@pytest.fixture
def no_number_parsing(monkeypatch):
    from churn import codec

    def forbidden(*args, **kwargs):
        raise AssertionError("numbers were parsed")

    monkeypatch.setattr(codec, "_loadtxt", forbidden)
    monkeypatch.setattr(codec, "_floats", forbidden)
    monkeypatch.setattr(codec, "_explain_numbers", forbidden)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b",".join([b"1"] * 3_000_000), "row 1 is 5999999 bytes long; a row of 10 numbers takes at most 650"),  # the 6 MB line of the issue
        (b"1" * (6 * 1024 * 1024 - 1), "row 1 is 6291455 bytes long"),
        (b",".join([b"1" * 100_000] * 10), "row 1 is 1000009 bytes long; a row of 10 numbers takes at most 650"),
        (b"x" * (6 * 1024 * 1024 - 1), "row 1 is 6291455 bytes long"),
        (b"x," * 9 + b"x", "row 1, column 1 (tenure_months): 'x' is not a number"),
        (b"1\n" * (3 * 1024 * 1024 - 1), "row 1 has 1 values"),
        (b"\n" * (6 * 1024 * 1024 - 2) + b"1", "row 1 is empty"),
    ],
    ids=["3M-values-one-line", "one-6MB-number", "ten-huge-fields", "6MB-of-letters", "letters", "3M-short-rows", "6MB-of-blank-rows"],
)
def test_garbage_is_refused_by_its_shape_without_parsing_a_number(no_number_parsing, body, message):
    from churn import codec

    assert codec.parse_csv_row(body, None, N) is None  # what the server tries first
    with pytest.raises(codec.RequestError) as refused:
        codec.parse_csv(body, None, _names())
    assert message in refused.value.message


def test_every_row_is_parsed_once_and_a_bad_value_is_located_in_its_chunk_only(monkeypatch):
    from churn import codec

    parsed_rows, explained_rows = [], []
    real_loadtxt, real_explain = codec._loadtxt, codec._explain_numbers
    monkeypatch.setattr(codec, "_loadtxt", lambda chunk: parsed_rows.append(len(chunk)) or real_loadtxt(chunk))

    def explain(chunk, offset, names):
        explained_rows.append(len(chunk))
        return real_explain(chunk, offset, names)

    monkeypatch.setattr(codec, "_explain_numbers", explain)
    rows = 20_000
    body = (ROW + "\n") * (rows - 1) + ROW.replace("350.5", "3.5.0") + "\n"
    with pytest.raises(codec.RequestError, match=f"row {rows}, column 4 \\(monthly_minutes\\): '3.5.0' is not a number"):
        codec.parse_csv(body.encode(), None, _names())
    assert sum(parsed_rows) == rows  # each row went through the number parser exactly once
    assert len(parsed_rows) > 1 and explained_rows == [parsed_rows[-1]]  # only the last chunk re-read


def test_a_large_body_comes_in_chunks_of_bounded_size():
    from churn import codec

    rows = 6 * 1024 * 1024 // (len(ROW) + 1) - 10
    chunks = list(codec.iter_csv(((ROW + "\n") * rows).encode(), None, _names()))
    bound = codec.CHUNK_BYTES // (len(ROW) + 1) + 1  # rows a chunk of CHUNK_BYTES can hold, plus the row it cuts
    assert sum(len(c) for c in chunks) == rows
    assert len(chunks) >= rows // bound and max(len(c) for c in chunks) <= bound


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("1e999", "instance 3000, column 4 (monthly_minutes): number out of range"),
        ('"x"', "instance 3000, column 4 (monthly_minutes): 'x' is not a number"),
    ],
    ids=["out-of-range", "string"],
)
def test_json_comes_in_chunks_and_a_bad_value_is_named_by_its_instance(bad, message):
    from churn import codec

    good = json.dumps({"instances": [ROW_VALUES] * 3000}).encode()
    chunks = list(codec.iter_json(good, None, _names()))
    assert [len(c) for c in chunks] == [codec.CHUNK_ROWS, codec.CHUNK_ROWS, 3000 - 2 * codec.CHUNK_ROWS]
    body = good.replace(b"350.5, 3.2, 40.1, 480.2, 2.0, 0.0, 1.0]]}", f"{bad}, 3.2, 40.1, 480.2, 2.0, 0.0, 1.0]]}}".encode())
    assert body != good
    with pytest.raises(codec.RequestError) as refused:
        codec.parse_json(body, None, _names())
    assert message in refused.value.message


# --- headers: Content-Type and Accept, as the server reads them --------------------------------------


@pytest.mark.parametrize(
    ("header", "media", "charset"),
    [
        ("text/csv", "text/csv", None),
        ("application/json", "application/json", None),
        (" Text/CSV ; Charset=UTF-8", "text/csv", "utf-8"),
        ('text/csv;charset="utf-8"', "text/csv", "utf-8"),
        ("text/csv; format=dense; charset=latin-1", "text/csv", "iso8859-1"),  # Python's name for the codec
        ("application/json; charset=", "application/json", None),
        ("application/json; boundary=x", "application/json", None),
        ("text/csv; charset=X-MAC-JAPANESE", "text/csv", "shift_jis"),  # an alias Python knows, upper-cased
    ],
)
def test_content_type_names_the_media_type_and_the_charset_by_its_codec_name(header, media, charset):
    from churn import codec

    assert codec.parse_content_type(header) == codec.MediaType(media, charset)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "missing Content-Type: use text/csv or application/json"),
        ("", "missing Content-Type: use text/csv or application/json"),
        ("text/plain; charset=utf-8", "unsupported Content-Type 'text/plain': use text/csv or application/json"),
        ("text/csv; charset=klingon", "unsupported charset 'klingon'"),
    ],
)
def test_an_unusable_content_type_is_415_saying_what_to_send(header, message):
    from churn import codec

    with pytest.raises(codec.RequestError) as refused:
        codec.parse_content_type(header)
    assert (refused.value.status, refused.value.message) == (415, message)


@pytest.mark.parametrize(
    ("header", "answer"),
    [
        (None, "application/json"),
        ("", "application/json"),
        ("*/*", "application/json"),
        ("application/*", "application/json"),
        ("text/*", "text/csv"),
        (" TEXT/CSV ", "text/csv"),
        ("text/csv, application/json", "text/csv"),  # equal q: the first listed wins
        ("application/json, text/csv", "application/json"),
        ("text/csv;q=0.5, application/json;q=0.9", "application/json"),
        ("application/json;q=0.5, text/csv", "text/csv"),  # no q is q=1
        ("application/json;q=1, text/csv", "application/json"),  # no q is q=1, not more
        ("application/json; Q=0.2, text/csv; q=0.3", "text/csv"),
        ("text/html, text/csv;q=0.1", "text/csv"),
        ("text/csv;q=x, application/json;q=0.01", "application/json"),  # an unreadable q counts as 0
    ],
)
def test_accept_picks_the_highest_q_of_what_the_endpoint_answers(header, answer):
    from churn import codec

    assert codec.negotiate_accept(header) == answer


@pytest.mark.parametrize("header", ["text/html", "text/csv;q=0", "text/csv;q=x", "application/xml, text/csv;q=0"])
def test_accept_without_an_answerable_type_is_406(header):
    from churn import codec

    with pytest.raises(codec.RequestError) as refused:
        codec.negotiate_accept(header)
    assert refused.value.status == 406
    assert refused.value.message == f"cannot answer with {header!r}: this endpoint returns application/json or text/csv"


# --- the one-row fast path: it answers for a valid row, and only for one ------------------------------


@pytest.mark.parametrize("charset", [None, "utf-8", "ascii"])
def test_the_fast_path_decodes_one_valid_row_in_an_ascii_compatible_charset(charset):
    from churn import codec

    assert codec.parse_csv_row(ROW.encode() + b"\r\n", charset, N) == ROW_VALUES
    assert codec.parse_csv_row(ROW.encode(), "utf-16", N) is None  # another charset: the general parser re-encodes


@pytest.mark.parametrize("values", [N - 1, N + 1, N + 2])
def test_the_fast_path_leaves_a_row_of_the_wrong_width_to_the_general_parser(values):
    from churn import codec

    assert codec.parse_csv_row(",".join(["1"] * values).encode(), None, N) is None


def test_a_body_declared_ascii_may_start_with_excels_byte_order_mark():
    from churn import codec

    assert codec.parse_csv(codecs.BOM_UTF8 + ROW.encode(), "ascii", _names()).tolist() == [ROW_VALUES]


def test_a_body_that_is_not_text_in_its_declared_charset_is_refused_naming_the_byte():
    from churn import codec

    with pytest.raises(codec.RequestError) as refused:
        codec.parse_csv(b"1", "utf-16", _names())  # half a UTF-16 code unit
    assert refused.value.message == "body is not valid utf-16 text: truncated data at byte 0"
    with pytest.raises(codec.RequestError) as refused:
        codec.parse_json(b'{"instances": [[1]]}\xff', "utf-16", _names())
    assert refused.value.message.startswith("body is not valid utf-16 text: ")


@pytest.mark.parametrize("letter", ["X", "x", "Q"])
def test_a_letter_is_refused_by_the_alphabet_check_with_its_explanation(letter):
    from churn import codec

    with pytest.raises(codec.RequestError) as refused:
        codec.parse_csv(ROW.replace("350.5", f"350.5{letter}").encode(), None, _names())
    assert refused.value.message == (
        f"row 1, column 4 (monthly_minutes): '350.5{letter}' is not a number: send ASCII digits, sign, decimal point and exponent "
        "only (no Unicode digits or spaces, no '_', no nan or infinity)"
    )


# --- what a refused client reads: each message exact, naming the row (instance) and column -----------

NAMES = "tenure_months,plan,contract,monthly_minutes,data_gb,monthly_charges,total_charges,service_calls,international_plan,autopay"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b" \r\n\n", "empty body: send one row of 10 comma-separated numbers per line"),
        (NAMES.encode() + b"\n" + ROW.encode(), f"row 1 is a header: send rows of numbers only, in the feature order {NAMES}"),
        (ROW.replace("350.5", "1e999").encode(), "row 1, column 4 (monthly_minutes): '1e999' is not a finite number"),
        (ROW.replace("350.5", "  35x0 ").encode(), "row 1, column 4 (monthly_minutes): '35x0' is not a number: send ASCII"),
        (ROW.replace("350.5", "1" * 39 + "x").encode(), f"row 1, column 4 (monthly_minutes): '{'1' * 39}x' is not a number: send"),
        (ROW.replace("350.5", "1" * 40 + "x").encode(), f"row 1, column 4 (monthly_minutes): '{'1' * 40}...' is not a number: send"),
    ],
    ids=["empty", "header", "not-finite", "padded-value-shown-without-padding", "40-characters-shown-whole", "41-shortened"],
)
def test_a_refused_csv_body_gets_the_exact_message(body, message):
    from churn import codec

    with pytest.raises(codec.RequestError) as refused:
        codec.parse_csv(body, None, _names())
    assert refused.value.message.startswith(message), refused.value.message


def test_a_row_of_the_longest_accepted_length_is_accepted():
    from churn import codec

    longest = N * (codec.MAX_FIELD_BYTES + 1)
    row = ",".join(["0" * (codec.MAX_FIELD_BYTES - 1) + "1"] * N)
    row = "0" * (longest - len(row)) + row  # the first field one byte longer: the row exactly at the bound
    assert len(row) == longest
    assert codec.parse_csv(row.encode(), None, _names()).tolist() == [[1.0] * N]
    with pytest.raises(codec.RequestError, match=f"row 1 is {longest + 1} bytes long; a row of 10 numbers takes at most {longest}"):
        codec.parse_csv(b"0" + row.encode(), None, _names())
    with pytest.raises(codec.RequestError, match="row 1 has 11 values, expected 10"):  # at the bound, judged by its width
        codec.parse_csv(row[:-2].encode() + b",1", None, _names())


@pytest.mark.parametrize(
    ("instances", "message"),
    [
        ([ROW_VALUES, ROW_VALUES[:9]], f"instance 2 has 9 values, expected 10: {NAMES}"),
        ([ROW_VALUES, {n: 1 for n in NAMES.split(",") if n != "data_gb"}], "instance 2 is missing feature(s) data_gb"),
    ],
    ids=["short-list", "missing-feature"],
)
def test_a_refused_json_instance_is_named_by_its_number(instances, message):
    from churn import codec

    with pytest.raises(codec.RequestError) as refused:
        codec.parse_json(json.dumps({"instances": instances}).encode(), None, _names())
    assert refused.value.message == message


def test_json_in_a_declared_charset_is_decoded_and_malformed_json_is_named():
    from churn import codec

    body = json.dumps({"instances": [ROW_VALUES]})
    assert codec.parse_json(body.encode("utf-16"), "utf-16", _names()).tolist() == [ROW_VALUES]
    with pytest.raises(codec.RequestError) as refused:
        codec.parse_json(b'{"instances": [[1', None, _names())
    assert refused.value.message == "malformed JSON: Input data was truncated"


def _json_row(**changes) -> dict:
    return {**dict.fromkeys(NAMES.split(","), 1), **changes}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"instances": [[1, 1, 1, 1e999, 1, 1, 1, 1, 1, 1]]}, "instance 1, column 4 (monthly_minutes): number out of range"),
        ({"instances": [[1] * 10 + [1e999]]}, "instance 1, column 11: number out of range"),  # a column past the features
        ({"instances": [ROW_VALUES, _json_row(monthly_minutes=1e999)]}, "instance 2, a feature value: number out of range"),
        ({"instances": [_json_row(zz=2, aa=3)]}, f"instance 1 has unknown feature(s) aa, zz; known: {NAMES}"),
        ([1, 2], 'expected {"instances": [[v, ...], ...]} or {"instances": [{"feature": v, ...}, ...]}'),
        ({"instances": [[1, 1, 1, "x", 1, 1, 1, 1, 1, 1]]}, "instance 1, column 4 (monthly_minutes): 'x' is not a number"),
        ({"instances": [ROW_VALUES, [1] * 10 + ["x"]]}, "instance 2, column 11: 'x' is not a number"),
    ],
    ids=[
        "out-of-range",
        "out-of-range-past-the-features",
        "out-of-range-by-name",
        "unknown-features",
        "not-an-object",
        "string",
        "string-past-the-features",
    ],
)
def test_a_refused_json_body_gets_the_exact_message(body, message):
    from churn import codec

    text = json.dumps(body).replace("Infinity", "1e999").encode()  # json.dumps writes 1e999 as Infinity
    with pytest.raises(codec.RequestError) as refused:
        codec.parse_json(text, None, _names())
    assert refused.value.message == message


# --- answers: the same bytes in chunks as in one piece -----------------------------------------------


def test_predictions_are_encoded_one_per_line_or_as_a_json_list_in_chunks():
    from churn import codec

    probabilities = np.array([0.1, 0.25, 0.5])
    csv = list(codec.iter_encoded_predictions(probabilities, "text/csv", chunk_rows=2))
    assert csv == [b"0.1\n0.25\n", b"0.5\n"]
    answer = list(codec.iter_encoded_predictions(probabilities, "application/json", chunk_rows=2))
    assert len(answer) == 4  # opening, two chunks of rows, closing
    assert b"".join(answer) == b'{"predictions":[{"churn_probability":0.1},{"churn_probability":0.25},{"churn_probability":0.5}]}'


@pytest.mark.parametrize("accept", ["text/csv", "application/json"])
def test_one_prediction_is_encoded_as_the_chunked_encoder_would(accept):
    from churn import codec

    assert codec.encode_prediction(0.25, accept) == b"".join(codec.iter_encoded_predictions(np.array([0.25]), accept))
    assert codec.encode_prediction(0.25, "text/csv") == b"0.25\n"
    assert codec.encode_error("row 1 is empty") == b'{"error":"row 1 is empty"}'
