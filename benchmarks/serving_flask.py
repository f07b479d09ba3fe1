"""Benchmark baseline: the conventional SageMaker bring-your-own-container predictor — Flask
behind gunicorn sync workers, the body parsed with pandas.read_csv — over the same model file.

It is given one favour over the usual copy of that pattern: LightGBM predicts with one thread per
worker, as ours does, so the comparison measures the serving stack, not OpenMP oversubscription.
"""

from __future__ import annotations

import io
import os

import flask
import lightgbm as lgb
import pandas as pd

model = lgb.Booster(model_file=os.path.join(os.environ["CHURN_MODEL_DIR"], "model.txt"))
app = flask.Flask(__name__)


@app.route("/ping", methods=["GET"])
def ping() -> flask.Response:
    return flask.Response(response="\n", status=200, mimetype="application/json")


@app.route("/invocations", methods=["POST"])
def invocations() -> flask.Response:
    if (flask.request.content_type or "").split(";")[0].strip().lower() != "text/csv":
        return flask.Response(response="This predictor only supports CSV data", status=415, mimetype="text/plain")
    data = pd.read_csv(io.StringIO(flask.request.data.decode("utf-8")), header=None)
    probabilities = model.predict(data.to_numpy(), num_threads=1)
    if "text/csv" in (flask.request.headers.get("Accept") or ""):
        out = io.StringIO()
        pd.DataFrame({"p": probabilities}).to_csv(out, header=False, index=False)
        return flask.Response(response=out.getvalue(), status=200, mimetype="text/csv")
    return flask.jsonify({"predictions": [{"churn_probability": float(p)} for p in probabilities]})
