"""``losscore evaluate`` and ``losscore compare`` (in-process) against closed forms on the
example files."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from tests.cli import _oracle
from tests.cli._cli import ANSI, EXAMPLES, run

PRED = str(EXAMPLES / "prediction.npy")
TARGET = str(EXAMPLES / "target.npy")


@pytest.fixture(scope="module")
def residual() -> np.ndarray:
    r: np.ndarray = np.load(PRED) - np.load(TARGET)
    return r


def test_value_equals_the_closed_form(residual: np.ndarray) -> None:
    value, _, _ = _oracle.smooth_l1(0.5)
    got = run(
        "evaluate",
        "-l",
        "smooth_l1",
        "--param",
        "beta=0.5",
        "--prediction",
        PRED,
        "--target",
        TARGET,
        "--json",
    ).json()
    assert got["loss"] == "smooth_l1" and got["params"] == {"beta": 0.5}
    assert got["reduction"] == "mean" and got["shape"] == [residual.size]
    assert got["value"] == pytest.approx(float(np.mean(value(residual))), rel=1e-12)
    got = run(
        "evaluate",
        "-l",
        "smooth_l1",
        "--param",
        "beta=0.5",
        "--reduction",
        "sum",
        "--prediction",
        PRED,
        "--target",
        TARGET,
        "--json",
    ).json()
    assert got["value"] == pytest.approx(float(np.sum(value(residual))), rel=1e-12)


def test_output_csv_holds_the_per_element_arrays(residual: np.ndarray, tmp_path: Path) -> None:
    value, grad, hess = _oracle.huber(2.0)
    out = tmp_path / "huber.csv"
    r = run(
        "evaluate",
        "-l",
        "huber",
        "-p",
        "delta=2",
        "--hessian",
        "--output",
        str(out),
        "--prediction",
        PRED,
        "--target",
        TARGET,
    )
    assert r.code == 0, r.err
    with out.open() as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["loss", "gradient", "hessian"]
    table = np.array(rows[1:], dtype=np.float64)
    n = residual.size  # the mean's gradient and Hessian carry 1/n
    np.testing.assert_allclose(table[:, 0], value(residual), rtol=1e-12)
    np.testing.assert_allclose(table[:, 1], grad(residual) / n, rtol=1e-12)
    np.testing.assert_allclose(table[:, 2], hess(residual) / n, rtol=1e-12)


def test_output_npy_with_reduction_none(residual: np.ndarray, tmp_path: Path) -> None:
    value, grad, _ = _oracle.l1()
    out = tmp_path / "l1.npy"
    got = run(
        "evaluate",
        "-l",
        "l1",
        "--reduction",
        "none",
        "--output",
        str(out),
        "--prediction",
        PRED,
        "--target",
        TARGET,
        "--json",
    ).json()
    assert got["value"] is None and got["output"] == str(out)
    table = np.load(out)
    np.testing.assert_allclose(table[:, 0], value(residual), rtol=1e-12)
    np.testing.assert_array_equal(table[:, 1], grad(residual))


def test_csv_and_txt_inputs(residual: np.ndarray, tmp_path: Path) -> None:
    value, _, _ = _oracle.l2()
    data = tmp_path / "run.csv"
    rows = zip(np.load(TARGET).tolist(), np.load(PRED).tolist(), strict=True)
    data.write_text("y,yhat\n" + "".join(f"{y!r},{f!r}\n" for y, f in rows))
    txt = tmp_path / "target.txt"
    np.savetxt(txt, np.load(TARGET), fmt="%.17g")
    got = run(
        "evaluate",
        "-l",
        "l2",
        "--prediction",
        str(data),
        "--prediction-column",
        "yhat",
        "--target",
        str(txt),
        "--json",
    ).json()
    assert got["value"] == pytest.approx(float(np.mean(value(residual))), rel=1e-12)
    r = run("evaluate", "-l", "l2", "--prediction", str(data), "--target", str(data))
    assert r.code == 1
    assert "has 2 columns (y, yhat)" in r.err and "--column" in r.err
    r = run(
        "evaluate", "-l", "l2", "--prediction", str(data), "--column", "yhatt", "--target", str(txt)
    )
    assert r.code == 1 and "no column 'yhatt' (columns: y, yhat)" in r.err


def test_errors_name_the_field(tmp_path: Path) -> None:
    r = run("evaluate", "-l", "huber", "-p", "deltaa=2", "--prediction", PRED, "--target", TARGET)
    assert r.code == 1 and r.err.startswith("error: loss.deltaa: 'huber' has no parameter")
    r = run(
        "evaluate", "-l", "huber", "--prediction", str(tmp_path / "nope.npy"), "--target", TARGET
    )
    assert r.code == 1 and "error: --prediction:" in r.err and "no such file" in r.err
    r = run("evaluate", "-l", "huber", "--prediction", PRED, "--target", str(EXAMPLES / "X.npy"))
    assert r.code == 1 and r.err.startswith("error: target")


COMPARED = {
    "l1": _oracle.l1(),
    "l2": _oracle.l2(),
    "smooth_l1(beta=0.5)": _oracle.smooth_l1(0.5),
    "huber(delta=2)": _oracle.huber(2.0),
}


def test_compare_json_equals_closed_forms(residual: np.ndarray) -> None:
    got = run(
        "compare",
        "-l",
        "l1,l2,smooth_l1,huber",
        "--param",
        "smooth_l1.beta=0.5",
        "--param",
        "delta=2",
        "--hessian",
        "--prediction",
        PRED,
        "--target",
        TARGET,
        "--json",
    ).json()
    assert got["reduction"] == "mean"
    assert [r["loss"] for r in got["results"]] == ["l1", "l2", "smooth_l1", "huber"]
    for row, (value, grad, hess) in zip(got["results"], COMPARED.values(), strict=True):
        assert row["value"] == pytest.approx(float(np.mean(value(residual))), rel=1e-12)
        g = np.abs(grad(residual))
        assert row["mean_abs_gradient"] == pytest.approx(float(np.mean(g)), rel=1e-12)
        assert row["max_abs_gradient"] == pytest.approx(float(np.max(g)), rel=1e-12)
        assert row["mean_hessian"] == pytest.approx(float(np.mean(hess(residual))), abs=1e-12)


def test_compare_table_when_piped(residual: np.ndarray) -> None:
    r = run(
        "compare",
        "-l",
        "l1,l2,smooth_l1,huber",
        "--param",
        "smooth_l1.beta=0.5",
        "--param",
        "huber.delta=2",
        "--prediction",
        PRED,
        "--target",
        TARGET,
    )
    assert r.code == 0 and not ANSI.search(r.out)
    lines = r.out.splitlines()
    assert lines[0].split()[:3] == ["loss", "value", "(mean)"]
    for line, (label, (value, grad, _)) in zip(lines[1:], COMPARED.items(), strict=True):
        cells = line.split()
        assert cells[0] == label
        assert float(cells[1]) == pytest.approx(float(np.mean(value(residual))), rel=1e-5)
        assert float(cells[2]) == pytest.approx(float(np.mean(np.abs(grad(residual)))), rel=1e-5)


def test_compare_param_for_no_listed_loss() -> None:
    r = run("compare", "-l", "l1,l2", "--param", "beta=1", "--prediction", PRED, "--target", TARGET)
    assert r.code == 1 and "none of the listed losses has a parameter 'beta'" in r.err
    r = run(
        "compare",
        "-l",
        "l1,l2",
        "--param",
        "huber.delta=1",
        "--prediction",
        PRED,
        "--target",
        TARGET,
    )
    assert r.code == 1 and "'huber' is not among the listed losses (l1, l2)" in r.err
