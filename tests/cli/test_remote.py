"""The commands against a live server (``python -m service`` on a free port): evaluate and
compare over HTTP, training through the SSE stream of an upload, the model store, predictions,
the server's errors; and ``losscore serve`` itself."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from losscore.train import FitResult, predict
from tests._live import free_port, live_server
from tests.cli._cli import EXAMPLES, ROOT, WITHOUT_RICH, _env, cli, run, run_pty

IRIS = str(EXAMPLES / "iris.csv")
PRED = str(EXAMPLES / "prediction.npy")
TARGET = str(EXAMPLES / "target.npy")
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_server(tmp_path_factory.mktemp("store")) as base:
        yield base


def test_evaluate_and_compare_over_http_equal_local(server: str) -> None:
    args = ["-l", "smooth_l1", "-p", "beta=0.5", "--prediction", PRED, "--target", TARGET, "--json"]
    remote = run("evaluate", *args, "--server", server).json()
    local = run("evaluate", *args).json()
    assert remote == local
    args = [
        "-l",
        "l1,l2,huber",
        "--param",
        "delta=2",
        "--hessian",
        "--prediction",
        PRED,
        "--target",
        TARGET,
        "--json",
    ]
    remote = run("compare", *args, env={"LOSSCORE_SERVER": server}).json()
    assert remote == run("compare", *args, "--local", env={"LOSSCORE_SERVER": server}).json()


def test_train_stream_store_predict_and_delete(server: str, tmp_path: Path) -> None:
    saved = tmp_path / "model.json"
    got = run(
        "train",
        IRIS,
        "--target",
        "species",
        "--loss",
        "log_loss",
        "--alpha",
        "1e-2",
        "--server",
        server,
        "--output",
        str(saved),
        "--json",
    ).json()
    model_id = got["model_id"]
    assert model_id and got["output"] == str(saved)
    local = run(
        "train", IRIS, "--target", "species", "--loss", "log_loss", "--alpha", "1e-2", "--json"
    ).json()["model"]
    model = got["model"]
    assert model["feature_names"] == FEATURES == local["feature_names"]
    assert model["classes"] == local["classes"]
    np.testing.assert_allclose(model["coef"], local["coef"], rtol=1e-6, atol=1e-8)

    listed = run("models", "ls", "--server", server, "--json").json()
    assert model_id in [m["model_id"] for m in listed["models"]]
    shown = run("models", "show", model_id, "--server", server, "--json").json()
    assert shown["model_id"] == model_id and shown["coef"] == model["coef"]
    text = run("models", "show", model_id, "--server", server)
    assert text.code == 0 and model_id in text.out
    # the store names the features once main's Model.feature_names is there; x0… until then
    names = shown.get("feature_names") or [f"x{j}" for j in range(len(FEATURES))]
    assert all(any(line.split()[:1] == [n] for line in text.out.splitlines()) for n in names)

    X = np.loadtxt(IRIS, delimiter=",", skiprows=1, usecols=range(4))
    np.save(tmp_path / "X.npy", X)
    remote = run(
        "predict", "--model-id", model_id, "--server", server, str(tmp_path / "X.npy"), "--json"
    ).json()
    expected = predict(FitResult.from_dict(json.loads(saved.read_text())), X)
    assert remote["prediction"] == expected.prediction.tolist()
    np.testing.assert_allclose(remote["decision_function"], expected.decision_function, rtol=1e-12)
    np.testing.assert_allclose(remote["probability"], expected.probability, rtol=1e-12)
    local_file = run("predict", "--model", str(saved), IRIS, "--ignore-extra", "--json").json()
    assert local_file["prediction"] == remote["prediction"]

    assert run("models", "rm", model_id, "--server", server, "--json").json() == {
        "deleted": model_id
    }
    gone = run("models", "show", model_id, "--server", server)
    assert gone.code == 1 and gone.err.startswith("error: ") and "404" in gone.err


def test_models_ls_pages(server: str) -> None:
    for _ in range(3):
        run(
            "train",
            str(EXAMPLES / "outliers.csv"),
            "--target",
            "y",
            "--loss",
            "l2",
            "--server",
            server,
            "--json",
        ).json()
    everything = run("models", "ls", "--all", "--server", server, "--json").json()
    assert everything["next_cursor"] is None and len(everything["models"]) >= 3
    two = run("models", "ls", "--limit", "2", "--server", server, "--json").json()
    assert [m["model_id"] for m in two["models"]] == [
        m["model_id"] for m in everything["models"][:2]
    ]
    assert two["next_cursor"] is not None
    r = run("models", "ls", "--limit", "2", "--server", server)
    assert r.code == 0 and "--all" in r.err  # a note that more are stored


def test_server_errors_are_reported(server: str) -> None:
    r = run(
        "train", IRIS, "--target", "species", "--loss", "hinge", "--alpha", "-1", "--server", server
    )
    assert r.code == 1
    assert r.err.startswith("error: request.penalty") and "(HTTP 422" in r.err
    r = run("train", IRIS, "--target", "species", "--loss", "huber", "--server", server)
    assert r.code == 1 and len(r.err.splitlines()) == 1  # the detail is not repeated
    assert "column 'species', line 2: 'setosa' is not a finite number" in r.err
    r = run("train", IRIS, "--target", "specie", "--loss", "hinge", "--server", server)
    assert r.code == 1 and "specie" in r.err
    r = run("models", "ls", "--server", "http://127.0.0.1:9")
    assert r.code == 1 and r.err.startswith("error: cannot reach the server at http://127.0.0.1:9")
    r = run("models", "ls")
    assert r.code == 1 and "needs a server" in r.err
    r = run("models", "ls", "--server", "ftp://x")
    assert r.code == 1 and r.err.startswith("error: --server:")


def test_remote_train_with_named_features(server: str) -> None:
    got = run(
        "train",
        IRIS,
        "--target",
        "species",
        "--features",
        "sepal_length,petal_width",
        "--loss",
        "hinge",
        "--alpha",
        "1e-3",
        "--server",
        server,
        "--json",
    ).json()
    local = run(
        "train",
        IRIS,
        "--target",
        "species",
        "--features",
        "sepal_length,petal_width",
        "--loss",
        "hinge",
        "--alpha",
        "1e-3",
        "--json",
    ).json()["model"]
    assert got["model"]["feature_names"] == ["sepal_length", "petal_width"]
    np.testing.assert_allclose(got["model"]["coef"], local["coef"], atol=1e-6)
    r = run(
        "train",
        IRIS,
        "--target",
        "species",
        "--features",
        "sepal_length,petal_widht",
        "--loss",
        "hinge",
        "--server",
        server,
    )
    assert r.code == 1
    assert r.err.startswith("error: request.features: column 'petal_widht' is not in the table")


def test_remote_progress_in_a_terminal(server: str) -> None:
    argv = cli("train", IRIS, "--target", "species", "--loss", "hinge", "--server", server)
    for command in (argv, [sys.executable, "-c", WITHOUT_RICH, *argv[3:]]):
        code, text = run_pty(command, env={"LOSSCORE_PROGRESS_INTERVAL": "0"})
        assert code == 0, text
        frames = [p for p in text.split("\r") if "fitting" in p and "iteration" in p]
        assert frames, text  # the stream's progress events drive the same line
        assert "model id" in text and "converged" in text


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_serve_runs_the_service(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        cli("serve", "--host", "127.0.0.1", "--port", str(port)),
        cwd=ROOT,
        env=_env({"LOSSCORE_DATA_DIR": str(tmp_path), "LOG_LEVEL": "warning"}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while not _ready(base):
            assert proc.poll() is None, "losscore serve exited"
            assert time.monotonic() < deadline, "the service did not become ready"
            time.sleep(0.2)
        assert run("losses", "--json").json()[0]["name"] in httpx.get(f"{base}/v1/losses").text
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert not _ready(base)  # the process that answered was the one started (exec, no child)


def test_serve_without_the_service_extra() -> None:
    code = "import sys; sys.modules['fastapi'] = None; from losscore_cli import main; sys.exit(main(['serve']))"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_env(None),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "pip install 'losscore[service]'" in proc.stderr and "fastapi" in proc.stderr


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "losscore"
    if sys.prefix == sys.base_prefix or not script.exists():
        pytest.skip("not in an environment where the package is installed (make install)")
    proc = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("losscore ")
