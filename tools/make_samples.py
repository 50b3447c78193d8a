"""Write the example data sets (examples/: the README's commands, the CLI's and the playground's
samples); deterministic, run once and commit.

* ``iris.csv``: Fisher's iris (from scikit-learn's copy), columns sepal_length, sepal_width,
  petal_length, petal_width, species.
* ``outliers.csv``: 60 points of y = 2x + 1 + N(0, 0.5²) on x in [0, 10], 8 of them pushed
  up by 12 to 20: the set on which l2 tilts and huber / smooth_l1 / l1 do not.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from sklearn.datasets import load_iris

OUT = Path(__file__).resolve().parents[1] / "examples"


def iris() -> str:
    data = load_iris()
    rows = ["sepal_length,sepal_width,petal_length,petal_width,species"]
    for x, k in zip(data.data, data.target, strict=True):
        rows.append(",".join(f"{v:.1f}" for v in x) + f",{data.target_names[k]}")
    return "\n".join(rows) + "\n"


def outliers(seed: int = 7) -> str:
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0.0, 10.0, 60))
    y = 2.0 * x + 1.0 + rng.normal(0.0, 0.5, 60)
    hit = rng.choice(np.flatnonzero(x > 6.0), 8, replace=False)
    y[hit] += rng.uniform(12.0, 20.0, 8)
    return "x,y\n" + "".join(f"{a:.4f},{b:.4f}\n" for a, b in zip(x, y, strict=True))


def arrays(seed: int = 3) -> dict[str, np.ndarray]:
    """Small .npy pairs: ``prediction`` / ``target`` (100 regression values, for evaluate and
    compare) and ``X`` / ``y`` (200 × 3 rows and a noisy linear target, for training)."""
    rng = np.random.default_rng(seed)
    target = rng.normal(0.0, 2.0, 100)
    prediction = target + rng.standard_t(2, 100)  # heavy-tailed errors: l2 and l1 disagree
    X = rng.normal(size=(200, 3))
    y = X @ np.array([1.5, -2.0, 0.5]) + 0.3 + rng.normal(0.0, 0.4, 200)
    return {"prediction": prediction, "target": target, "X": X, "y": y}


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    out.mkdir(parents=True, exist_ok=True)
    (out / "iris.csv").write_text(iris(), encoding="utf-8")
    (out / "outliers.csv").write_text(outliers(), encoding="utf-8")
    pairs = arrays()
    for name, array in pairs.items():
        np.save(out / f"{name}.npy", array)
    # the same prediction and target as raw little-endian float64, back to back (the body of
    # POST /v1/evaluate/binary)
    raw = np.concatenate([pairs["prediction"], pairs["target"]]).astype("<f8")
    (out / "prediction_target.f64").write_bytes(raw.tobytes())


if __name__ == "__main__":
    main()
