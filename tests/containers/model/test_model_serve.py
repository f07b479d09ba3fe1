"""The inference server as a real process over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from model_testkit import Client, csv_rows
from sklearn.metrics import roc_auc_score


@pytest.fixture
def client(server):
    c = server.client()
    yield c
    c.close()


@pytest.fixture(scope="module")
def expected(pipeline):
    """The model's own probabilities for the test rows, computed in-process."""
    from churn.model import Predictor

    predictor = Predictor.load(pipeline.model_dir)
    return predictor.booster.predict(pipeline.test_features)


def _probabilities(response) -> list[float]:
    assert response.status == 200, response.body
    assert response.headers["content-type"] == "application/json"
    return [p["churn_probability"] for p in response.json()["predictions"]]


# --- health -------------------------------------------------------------------------------------------


def test_ping_is_200_once_the_model_is_loaded(client):
    response = client.request("GET", "/ping")
    assert response.status == 200
    assert response.json() == {"status": "ok"}


def test_ping_is_503_with_a_reason_until_the_model_arrives(late_model_server, pipeline):
    server, model_dir = late_model_server
    client = server.client()
    try:
        before = client.request("GET", "/ping")
        assert before.status == 503
        assert "model not loaded" in before.json()["error"] and str(model_dir) in before.json()["error"]
        invocation = client.invoke(csv_rows(pipeline.test_features, slice(0, 1)))
        assert invocation.status == 503 and "model not loaded" in invocation.json()["error"]

        # Deliver the model the way train writes it (model.txt last) while the server runs.
        for name in ("features.json", "metadata.json", "model.txt"):
            shutil.copy(pipeline.model_dir / name, model_dir / f".{name}.tmp")
            (model_dir / f".{name}.tmp").rename(model_dir / name)
        deadline = time.monotonic() + 30
        while (status := client.request("GET", "/ping").status) != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert status == 200
        assert client.invoke(csv_rows(pipeline.test_features, slice(0, 1))).status == 200
    finally:
        client.close()


def test_server_runs_the_requested_number_of_workers(server):
    assert server.log().count("Booting worker with pid") == 2
    assert server.log().count("model loaded from") == 2


def _children(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads the workers' memory maps in /proc (Linux)")
def test_workers_load_neither_scikit_learn_nor_pandas(server, client):
    """lightgbm imports both when they are installed (the image has them for training); serving
    needs neither (churn.serve.NOT_FOR_SERVING): no worker maps a library of either."""
    assert client.request("GET", "/ping").status == 200
    workers = _children(server.process.pid)
    assert len(workers) == 2, workers
    for pid in workers:
        mapped = {line.split()[-1] for line in Path(f"/proc/{pid}/maps").read_text().splitlines() if "/" in line}
        assert any("/lightgbm/" in path for path in mapped), "the worker's libraries are not where this check looks"
        assert not [path for path in mapped if "/sklearn/" in path or "/pandas/" in path]


# --- CSV and JSON in, JSON and CSV out ----------------------------------------------------------------


def test_end_to_end_the_endpoint_reproduces_the_evaluated_auc(client, pipeline):
    response = client.invoke(csv_rows(pipeline.test_features))
    probabilities = _probabilities(response)
    assert len(probabilities) == len(pipeline.test_labels)
    auc = roc_auc_score(pipeline.test_labels, probabilities)
    assert auc == pytest.approx(pipeline.evaluation["binary_classification_metrics"]["auc"]["value"], abs=1e-12)


@pytest.mark.parametrize(
    "content_type",
    ["text/csv", "text/csv; charset=utf-8", "Text/CSV; Charset=UTF-8", 'text/csv;charset="utf-8"', "text/csv; charset=latin-1"],
)
def test_csv_with_or_without_charset(client, pipeline, expected, content_type):
    response = client.invoke(csv_rows(pipeline.test_features, slice(0, 5)), content_type)
    np.testing.assert_allclose(_probabilities(response), expected[:5], rtol=0, atol=1e-12)


def test_csv_with_windows_line_endings_and_trailing_blank_line(client, pipeline, expected):
    body = csv_rows(pipeline.test_features, slice(0, 3)).replace("\n", "\r\n") + "\r\n"
    np.testing.assert_allclose(_probabilities(client.invoke(body)), expected[:3], rtol=0, atol=1e-12)


def test_single_row_fast_path_agrees_with_the_batch_path(client, pipeline, expected):
    singles = [_probabilities(client.invoke(csv_rows(pipeline.test_features, slice(i, i + 1))))[0] for i in range(20)]
    batch = _probabilities(client.invoke(csv_rows(pipeline.test_features, slice(0, 20))))
    np.testing.assert_allclose(singles, batch, rtol=0, atol=1e-12)
    np.testing.assert_allclose(singles, expected[:20], rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("accept", "kind"),
    [
        (None, "json"),
        ("application/json", "json"),
        ("*/*", "json"),
        ("text/csv", "csv"),
        ("text/csv; charset=utf-8", "csv"),
        ("application/json;q=0.4, text/csv;q=0.9", "csv"),
        ("text/html, application/json", "json"),
    ],
)
def test_accept_chooses_the_response_format(client, pipeline, expected, accept, kind):
    response = client.invoke(csv_rows(pipeline.test_features, slice(0, 4)), accept=accept)
    assert response.status == 200
    if kind == "json":
        values = _probabilities(response)
    else:
        assert response.headers["content-type"].startswith("text/csv")
        lines = response.body.decode().splitlines()
        assert len(lines) == 4
        values = [float(line) for line in lines]
    np.testing.assert_allclose(values, expected[:4], rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("rows", "accept"), [(slice(0, 1), None), (slice(0, 5), None), (slice(0, 5), "text/csv")], ids=["one-row", "batch", "csv"]
)
def test_every_answer_names_the_model_version_for_sagemaker_to_pass_back(client, pipeline, rows, accept):
    # SageMaker hands this header to the InvokeEndpoint caller as CustomAttributes (the API reports it).
    response = client.invoke(csv_rows(pipeline.test_features, rows), accept=accept)
    assert response.status == 200
    assert response.headers["x-amzn-sagemaker-custom-attributes"] == "model-version=3"


def test_no_version_header_without_a_version_and_a_bad_version_is_refused():
    from churn.app import model_version_headers

    assert model_version_headers(None) == [] and model_version_headers(" ") == []
    with pytest.raises(ValueError, match="MODEL_PACKAGE_VERSION='v3' is not a model package version"):
        model_version_headers("v3")


def test_json_instances_as_lists_and_by_feature_name(client, pipeline, expected):
    from churn.schema import FEATURE_NAMES

    rows = pipeline.test_features[:6].tolist()
    as_lists = client.invoke(json.dumps({"instances": rows}), "application/json")
    by_name = client.invoke(
        json.dumps({"instances": [dict(zip(reversed(FEATURE_NAMES), reversed(r))) for r in rows]}),
        "application/json; charset=utf-8",
    )
    np.testing.assert_allclose(_probabilities(as_lists), expected[:6], rtol=0, atol=1e-12)
    np.testing.assert_allclose(_probabilities(by_name), expected[:6], rtol=0, atol=1e-12)
    as_csv = client.invoke(json.dumps({"instances": rows[:2]}), "application/json", accept="text/csv")
    assert [float(v) for v in as_csv.body.decode().split()] == pytest.approx(list(expected[:2]), abs=1e-12)


def test_connections_are_kept_alive(server, pipeline):
    client = server.client()
    try:
        sockets = []
        for _ in range(5):
            response = client.invoke(csv_rows(pipeline.test_features, slice(0, 1)))
            assert response.status == 200
            assert response.headers.get("connection", "").lower() != "close"
            sockets.append(client.conn.sock)
        assert all(s is sockets[0] for s in sockets)  # one socket served every request
    finally:
        client.close()


# --- bad input ------------------------------------------------------------------------------------------

# One valid encoded row: tenure_months, plan, contract, monthly_minutes, data_gb, monthly_charges,
# total_charges, service_calls, international_plan, autopay.
ROW = "12,0,0,350.5,3.2,40.1,480.2,2,0,1"
HEADER = "tenure_months,plan,contract,monthly_minutes,data_gb,monthly_charges,total_charges,service_calls,international_plan,autopay"


def test_the_documented_row_layout_is_the_models(pipeline):
    from churn.model import feature_names

    assert ",".join(feature_names(pipeline.model_dir)) == HEADER


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (f"{ROW}\n12,0,abc,350.5,3.2,40.1,480.2,2,0,1\n", "text/csv", "row 2, column 3 (contract): 'abc' is not a number"),
        (f"{ROW}\n12,0,0,350.5,3.2,40.1,480.2,2,0\n", "text/csv", "row 2 has 9 values, expected 10"),
        (f"{ROW},7\n{ROW},7\n", "text/csv", "row 1 has 11 values, expected 10"),
        (f"{ROW}\n\n{ROW}\n", "text/csv", "row 2 is empty"),
        (f"{ROW.replace('350.5', 'nan')}\n", "text/csv", "row 1, column 4 (monthly_minutes): 'nan' is not a number"),
        (f"{ROW}\n{ROW.replace('350.5', '1e999')}\n", "text/csv", "row 2, column 4 (monthly_minutes): '1e999' is not a finite number"),
        # One row alone takes the fast path (no numpy): it must refuse what the general parser refuses.
        (f"{ROW.replace('350.5', '1e999')}\n", "text/csv", "row 1, column 4 (monthly_minutes): '1e999' is not a finite number"),
        (f"{ROW.replace('350.5', '-1e999')}", "text/csv", "row 1, column 4 (monthly_minutes): '-1e999' is not a finite number"),
        (f"{ROW.replace('350.5', '')}\n", "text/csv", "row 1, column 4 (monthly_minutes): '' is not a number"),
        (f"{ROW.replace('350.5', '1_000')}\n", "text/csv", "row 1, column 4 (monthly_minutes): '1_000' is not a number"),
        ("", "text/csv", "empty body"),
        (f"{HEADER}\n{ROW}\n", "text/csv", "row 1 is a header"),
        ('{"instances": [[1, 2,', "application/json", "malformed JSON"),
        (
            '{"instances": [[12, 0, 0, 350.5, 3.2, "40.1", 480.2, 2, 0, 1]]}',
            "application/json",
            "instance 1, column 6 (monthly_charges): '40.1' is not a number",
        ),
        (
            '{"instances": [[12, 0, 0, 350.5, 3.2, 40.1, 480.2, 2, 0, true]]}',
            "application/json",
            "instance 1, column 10 (autopay): True is not a number",
        ),
        ('{"instances": [[1, 2, 3]]}', "application/json", "instance 1 has 3 values, expected 10"),
        ('{"instances": [{"tenure_months": 3}]}', "application/json", "instance 1 is missing feature(s) plan"),
        ('{"instances": []}', "application/json", '"instances" is empty'),
        ('{"rows": [[1]]}', "application/json", 'expected {"instances"'),
        ("[[1, 2]]", "application/json", 'expected {"instances"'),
        (
            '{"instances": [[1e999, 0, 0, 350.5, 3.2, 40.1, 480.2, 2, 0, 1]]}',
            "application/json",
            "instance 1, column 1 (tenure_months): number out of range",
        ),
    ],
    ids=[
        "csv-non-numeric",
        "csv-too-few",
        "csv-too-many",
        "csv-blank-row",
        "csv-nan",
        "csv-overflow",
        "csv-overflow-one-row",
        "csv-negative-overflow-one-row-no-newline",
        "csv-empty-cell",
        "csv-underscore",
        "csv-empty-body",
        "csv-header",
        "json-malformed",
        "json-string",
        "json-bool",
        "json-count",
        "json-missing-name",
        "json-empty",
        "json-wrong-key",
        "json-bare-list",
        "json-out-of-range",
    ],
)
def test_bad_input_is_400_with_a_message_naming_row_and_column(client, body, content_type, message):
    response = client.invoke(body, content_type)
    assert response.status == 400
    assert response.headers["content-type"] == "application/json"
    assert message in response.json()["error"]
    # and the connection is still usable
    assert client.invoke(ROW).status == 200


def test_unknown_feature_name_is_400(client, pipeline):
    from churn.schema import FEATURE_NAMES

    instance = dict(zip(FEATURE_NAMES, pipeline.test_features[0].tolist())) | {"customer_id": 7}
    response = client.invoke(json.dumps({"instances": [instance]}), "application/json")
    assert response.status == 400
    assert "unknown feature(s) customer_id" in response.json()["error"]


@pytest.mark.parametrize("content_type", ["application/xml", "text/plain", None, "application/x-npy"])
def test_unsupported_content_type_is_415(client, content_type):
    response = client.invoke(ROW, content_type)
    assert response.status == 415
    assert "text/csv or application/json" in response.json()["error"]


def test_unsupported_charset_is_415(client):
    response = client.invoke(ROW, "text/csv; charset=klingon")
    assert response.status == 415 and "charset" in response.json()["error"]


def test_unanswerable_accept_is_406(client):
    response = client.invoke(ROW, accept="application/xml")
    assert response.status == 406
    assert "application/json or text/csv" in response.json()["error"]


def test_body_over_6_mb_is_413(server):
    body = (ROW + "\n").encode() * (6 * 1024 * 1024 // (len(ROW) + 1) + 10)
    assert len(body) > 6 * 1024 * 1024
    client = server.client()
    try:
        response = client.invoke(body)
        assert response.status == 413
        assert "6 MB" in response.json()["error"]
        assert client.invoke(ROW).status == 200  # the body was consumed: the connection lives on
    finally:
        client.close()


def test_expect_100_continue_over_6_mb_is_refused_before_the_body_is_sent(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(
            b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nExpect: 100-continue\r\nContent-Length: 7000000\r\n\r\n"
        )
        received = b""
        while chunk := sock.recv(65536):  # the server answers and closes without any body sent
            received += chunk
    assert received.startswith(b"HTTP/1.1 413")
    assert b"connection: close" in received.lower()
    assert b"6 MB" in received


def test_chunked_body_over_6_mb_is_413(server):
    chunk = (ROW + "\n").encode() * 20000  # ~700 KB per chunk, no Content-Length sent
    chunks = 6 * 1024 * 1024 // len(chunk) + 2
    client = server.client()
    try:
        client.conn.request("POST", "/invocations", body=iter([chunk] * chunks), headers={"Content-Type": "text/csv"}, encode_chunked=True)
        response = client.conn.getresponse()
        assert response.status == 413
        assert "6 MB" in json.loads(response.read())["error"]
    finally:
        client.close()


def test_body_just_under_the_limit_is_accepted(client):
    rows = 6 * 1024 * 1024 // (len(ROW) + 1) - 10
    response = client.invoke((ROW + "\n") * rows)
    assert len(_probabilities(response)) == rows


def test_unknown_route_and_wrong_method(client):
    assert client.request("GET", "/predict").status == 404
    wrong = client.request("GET", "/invocations")
    assert wrong.status == 405 and wrong.headers["allow"] == "POST"
    assert client.request("POST", "/ping").status == 405


def test_a_stalled_request_body_times_out_with_408(late_model_server):
    server, _ = late_model_server  # SAGEMAKER_MODEL_SERVER_TIMEOUT=2
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(b"POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 1000\r\n\r\n12,1,0")
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408")
    assert b"not received within 2 s" in body


# --- concurrency ----------------------------------------------------------------------------------------


def test_concurrent_keep_alive_clients_get_only_correct_answers(server, pipeline, expected):
    payloads = [(i, 1 if i % 3 else 10) for i in range(0, 120, 3)]
    failures: list[str] = []

    def client_loop(offset: int) -> None:
        client = Client(server.port)
        try:
            for start, count in payloads:
                start = (start + offset) % (len(expected) - 10)
                response = client.invoke(csv_rows(pipeline.test_features, slice(start, start + count)))
                if response.status != 200:
                    failures.append(f"{response.status} {response.body[:200]!r}")
                    continue
                got = [p["churn_probability"] for p in response.json()["predictions"]]
                if not np.allclose(got, expected[start : start + count], rtol=0, atol=1e-12):
                    failures.append(f"wrong answer for rows {start}..{start + count}")
        except Exception as error:  # a reset or timeout is a failure too
            failures.append(repr(error))
        finally:
            client.close()

    threads = [threading.Thread(target=client_loop, args=(n * 7,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


# --- server settings from SageMaker's variables ---------------------------------------------------------


def test_server_settings_follow_sagemaker_variables(monkeypatch):
    from churn.serve import options_from_env

    for name in ("SAGEMAKER_BIND_TO_PORT", "SAGEMAKER_MODEL_SERVER_WORKERS", "SAGEMAKER_MODEL_SERVER_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    defaults = options_from_env("0.0.0.0", None, None)
    assert defaults["bind"] == "0.0.0.0:8080"
    assert defaults["workers"] == len(os.sched_getaffinity(0))  # every CPU this process may use
    assert defaults["timeout"] == 60 and defaults["keepalive"] > 60
    assert defaults["worker_class"] == "churn.serve.Worker"

    monkeypatch.setenv("SAGEMAKER_BIND_TO_PORT", "9090")
    monkeypatch.setenv("SAGEMAKER_MODEL_SERVER_WORKERS", "3")
    monkeypatch.setenv("SAGEMAKER_MODEL_SERVER_TIMEOUT", "7")
    configured = options_from_env("127.0.0.1", None, None)
    assert (configured["bind"], configured["workers"], configured["timeout"]) == ("127.0.0.1:9090", 3, 7)
    assert os.environ["SAGEMAKER_MODEL_SERVER_TIMEOUT"] == "7"  # what each worker's app reads


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SAGEMAKER_MODEL_SERVER_WORKERS", "many"),
        ("SAGEMAKER_MODEL_SERVER_WORKERS", "0"),
        ("SAGEMAKER_MODEL_SERVER_TIMEOUT", "-5"),
        ("SERVE_ACCEPT_TAKEOVER_SECONDS", "soon"),
        ("SERVE_ACCEPT_TAKEOVER_SECONDS", "-1"),
    ],
)
def test_bad_server_settings_stop_with_the_variable_named(monkeypatch, name, value):
    from churn.serve import options_from_env

    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as stop:
        options_from_env("127.0.0.1", None, None)
    assert name in str(stop.value)


def test_the_single_row_fast_path_is_in_use(pipeline, expected):
    # If a LightGBM upgrade hid the C entry point, serving would silently fall back to the slow path.
    from churn.model import Predictor

    predictor = Predictor.load(pipeline.model_dir)
    assert predictor._fast is not None
    rows = pipeline.test_features[:50]
    singles = [predictor.predict(rows[i : i + 1])[0] for i in range(50)]
    from_values = [predictor.predict_row(row.tolist()) for row in rows]
    np.testing.assert_allclose(singles, expected[:50], rtol=0, atol=1e-12)
    np.testing.assert_allclose(from_values, expected[:50], rtol=0, atol=1e-12)
    predictor._fast = None  # what a LightGBM without the entry point gets: same numbers
    np.testing.assert_allclose([predictor.predict_row(row.tolist()) for row in rows], expected[:50], rtol=0, atol=1e-12)
