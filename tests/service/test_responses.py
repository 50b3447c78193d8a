"""The chunked JSON encoder: blobs land exactly where they stand, whatever the user data."""

from __future__ import annotations

import base64
import json

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from service.responses import Blob, dumps_chunks
from tests.service.conftest import Client

MARKERS = ["@@losscore-blob-0@@", "@@losscore-blob-7@@", '"@@losscore-blob-0@@"', '\\"']


@given(st.lists(st.sampled_from([*MARKERS, "a", ""]) | st.text(max_size=30), max_size=6))
def test_user_strings_never_collide_with_blobs(labels: list[str]) -> None:
    raw = np.arange(6, dtype="<f8").tobytes()
    obj = {
        "prediction": labels,
        "decision_function": {"shape": [6], "dtype": "float64", "b64": Blob(base64.b64encode(raw))},
        labels[0] if labels else "k": [Blob(b"QUJD"), {"x": labels}],
    }
    got = json.loads(b"".join(dumps_chunks(obj)))
    assert got["prediction"] == labels
    assert base64.b64decode(got["decision_function"]["b64"]) == raw
    assert got[labels[0] if labels else "k"] == ["QUJD", {"x": labels}]


def test_labels_equal_to_the_old_markers_round_trip(client: Client) -> None:
    """A model whose classes look like the encoder's old splice markers predicts with b64 X."""
    X = [[0.0], [1.0], [2.0], [3.0]]
    labels = [
        "@@losscore-blob-0@@",
        "@@losscore-blob-0@@",
        "@@losscore-blob-7@@",
        "@@losscore-blob-7@@",
    ]
    r = client.post(
        "/v1/train", json={"task": "classification", "loss": {"name": "hinge"}, "X": X, "y": labels}
    )
    assert r.status_code == 200, r.text
    b64 = base64.b64encode(np.array([[0.0], [3.0]]).tobytes()).decode()
    p = client.post(
        f"/v1/models/{r.json()['model_id']}/predict", json={"X": {"shape": [2, 1], "b64": b64}}
    )
    assert p.status_code == 200, p.text
    assert p.json()["prediction"] == ["@@losscore-blob-0@@", "@@losscore-blob-7@@"]
    scores = np.frombuffer(base64.b64decode(p.json()["decision_function"]["b64"]), "<f8")
    assert scores[0] < 0 < scores[1]
