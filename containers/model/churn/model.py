"""The model directory (what train writes, serve and evaluate load) and a fast predictor over it.

Layout of the model directory (SageMaker tars it into model.tar.gz):
  model.txt      the LightGBM booster, text format (portable across LightGBM versions/platforms)
  features.json  {"feature_names": [...], "label": "churn", "output": "churn_probability"}
  metadata.json  hyper-parameters, best iteration, train/validation metrics, library version
"""

from __future__ import annotations

import ctypes
import json
import os
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from churn.errors import JobError

MODEL_FILE = "model.txt"
FEATURES_FILE = "features.json"
METADATA_FILE = "metadata.json"
OUTPUT_NAME = "churn_probability"


def _atomic_write(path: Path, text: str) -> None:
    # Readers (serve polls for a model that is not there yet) never see half a file.
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def save_model(model_dir: Path, model_text: str, feature_names: list[str], metadata: dict[str, Any]) -> None:
    """Write the three model files; model.txt last, so its presence means the set is complete."""
    model_dir.mkdir(parents=True, exist_ok=True)
    features = {"feature_names": list(feature_names), "label": "churn", "output": OUTPUT_NAME}
    _atomic_write(model_dir / FEATURES_FILE, json.dumps(features, indent=2) + "\n")
    _atomic_write(model_dir / METADATA_FILE, json.dumps(metadata, indent=2, sort_keys=True) + "\n")
    _atomic_write(model_dir / MODEL_FILE, model_text)


def feature_names(model_dir: Path) -> list[str]:
    """The model's input columns, in the order the endpoint expects them."""
    path = model_dir / FEATURES_FILE
    try:
        names = json.loads(path.read_text(encoding="utf-8"))["feature_names"]
    except FileNotFoundError:
        raise JobError(f"no {FEATURES_FILE} in {model_dir}: not a model directory") from None
    except (ValueError, KeyError, TypeError) as error:
        raise JobError(f"{path} is not a valid feature list: {error}") from None
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise JobError(f"{path}: feature_names must be a non-empty list of strings")
    return names


def metadata(model_dir: Path) -> dict[str, Any]:
    path = model_dir / METADATA_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


class Predictor:
    """Churn probabilities from a LightGBM booster, tuned for many small requests.

    `Booster.predict` spends ~30-50 µs per call in Python-side argument handling, more than the
    trees themselves take for one row. LightGBM's C API has a documented entry point made for
    exactly this case (`LGBM_BoosterPredictForMatSingleRowFast`: the configuration is parsed
    once, each call only walks the trees), which brings a one-row prediction to a few µs; batches
    still go through `Booster.predict`. A Predictor is not thread-safe (the fast path reuses its
    buffers): serve gives each worker process its own and calls it from the event loop.
    """

    def __init__(self, booster: lgb.Booster, names: list[str], num_threads: int = 1) -> None:
        if booster.num_feature() != len(names):
            raise JobError(f"the model expects {booster.num_feature()} features but its feature list names {len(names)}")
        self.booster = booster
        self.feature_names = list(names)
        self.n_features = len(names)
        self._num_threads = num_threads
        self._fast = _SingleRowPredictor.create(booster, self.n_features)

    @classmethod
    def load(cls, model_dir: Path, num_threads: int = 1) -> Predictor:
        path = model_dir / MODEL_FILE
        if not path.is_file():
            raise JobError(f"no {MODEL_FILE} in {model_dir}")
        names = feature_names(model_dir)
        try:
            booster = lgb.Booster(model_file=str(path))
        except lgb.basic.LightGBMError as error:
            raise JobError(f"{path} is not a LightGBM model: {error}") from None
        return cls(booster, names, num_threads)

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Probabilities for a float64 (rows, n_features) array."""
        if features.ndim != 2 or features.shape[1] != self.n_features:
            raise ValueError(f"expected shape (rows, {self.n_features}), got {features.shape}")
        if features.shape[0] == 1 and self._fast is not None:
            return np.array([self._fast.predict(features)])
        return self.booster.predict(features, num_threads=self._num_threads)

    def predict_row(self, values: Sequence[float]) -> float:
        """The probability for one row given as `n_features` floats (the endpoint's common case)."""
        if len(values) != self.n_features:
            raise ValueError(f"expected {self.n_features} values, got {len(values)}")
        if self._fast is not None:
            return self._fast.predict_values(values)
        return float(self.booster.predict(np.array([values], dtype=np.float64), num_threads=self._num_threads)[0])


class _SingleRowPredictor:
    """LightGBM's single-row fast prediction path (C API, loaded through the lightgbm package).

    The package keeps its handle on the C library in `lightgbm.basic._LIB`, which is not public
    API: should a LightGBM upgrade move it, `create` returns None and every prediction takes the
    `Booster.predict` path (same numbers, slower). A test pins that the fast path is in use.

    The row is packed into an input buffer allocated once, so every call passes the same
    pointers and ctypes has nothing to convert; no numpy object is made per call.
    """

    _PREDICT_NORMAL = 0
    _DTYPE_FLOAT64 = 1

    def __init__(self, lib: ctypes.CDLL, config: ctypes.c_void_p, booster: lgb.Booster, n_features: int) -> None:
        self._lib = lib
        self._config = config
        self._booster = booster  # the fast config points into the booster: keep it alive
        self._row = struct.Struct(f"={n_features}d")
        self._in = (ctypes.c_double * n_features)()
        self._in_view = np.frombuffer(self._in, dtype=np.float64)
        self._out = ctypes.c_double()
        self._in_ptr = ctypes.cast(self._in, ctypes.c_void_p)
        self._out_ref = ctypes.byref(self._out)
        self._out_len_ref = ctypes.byref(ctypes.c_int64())
        self._call = lib.LGBM_BoosterPredictForMatSingleRowFast

    @classmethod
    def create(cls, booster: lgb.Booster, n_features: int) -> _SingleRowPredictor | None:
        lib = getattr(lgb.basic, "_LIB", None)
        handle = getattr(booster, "_handle", None)
        if lib is None or handle is None or not hasattr(lib, "LGBM_BoosterPredictForMatSingleRowFast"):
            return None  # a LightGBM without this path: Booster.predict still gives the answer
        config = ctypes.c_void_p()
        status = lib.LGBM_BoosterPredictForMatSingleRowFastInit(
            handle,
            ctypes.c_int(cls._PREDICT_NORMAL),
            ctypes.c_int(0),  # start iteration
            ctypes.c_int(-1),  # all iterations (the saved model is already cut at the best one)
            ctypes.c_int(cls._DTYPE_FLOAT64),
            ctypes.c_int32(n_features),
            ctypes.c_char_p(b"num_threads=1"),
            ctypes.byref(config),
        )
        if status != 0:
            return None
        return cls(lib, config, booster, n_features)

    def predict_values(self, values: Sequence[float]) -> float:
        self._row.pack_into(self._in, 0, *values)
        return self._run()

    def predict(self, row: np.ndarray) -> float:
        self._in_view[:] = row[0]
        return self._run()

    def _run(self) -> float:
        if self._call(self._config, self._in_ptr, self._out_len_ref, self._out_ref) != 0:
            raise RuntimeError(self._lib.LGBM_GetLastError().decode())
        return self._out.value

    def __del__(self) -> None:
        free = getattr(self._lib, "LGBM_FastConfigFree", None)
        if free is not None and self._config:
            free(self._config)
            self._config = ctypes.c_void_p()
