"""The playground in Chromium: curves follow the sliders (checked on the plotted numbers
against closed forms), the compare table equals POST /v1/compare and losscore, a training run
streams and draws a boundary that is the returned model's, the keyboard alone trains, stored
models load / download / delete, a late answer does not replace a newer one, axe-core finds
nothing serious, a 375 px screen works, and no request leaves the service (the ``watched``
fixture)."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

import losscore
from tests._live import ROOT, live_server
from tests.browser.conftest import WEB_DIR, Watched, artifact_dir, run_axe, watch

pytestmark = pytest.mark.slow

SAMPLES = ROOT / "examples"  # the samples the page serves (copied by web/build.mjs)


def plotted(page: Any, chart: str) -> dict[str, Any]:
    return page.evaluate(f"() => window.losscorePlayground.charts[{json.dumps(chart)}].plotted()")


def smooth_l1(r: np.ndarray, beta: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Closed form: ½r²/β inside |r| < β, |r| − ½β outside; derivatives r/β | sign r, 1/β | 0."""
    inside = np.abs(r) < beta
    value = np.where(inside, 0.5 * r * r / beta, np.abs(r) - 0.5 * beta)
    grad = np.where(inside, r / beta, np.sign(r))
    hess = np.where(inside, 1.0 / beta, 0.0)
    return value, grad, hess


def test_page_loads_fast_without_errors(watched: Watched) -> None:
    page = watched.open("/")
    first = page.evaluate("() => window.losscorePlayground.timings.firstRender")
    assert first is not None and first > 0
    # the three default regression curves, 1,000 points each, on the three charts
    for chart in ("value", "gradient", "hessian"):
        lines = plotted(page, chart)
        assert set(lines) == {"l1", "l2", "smooth_l1"}
        assert all(len(v["x"]) == 1000 for v in lines.values())
    x = np.asarray(plotted(page, "value")["l2"]["x"])
    np.testing.assert_allclose(plotted(page, "value")["l2"]["y"], x * x, rtol=1e-15)
    np.testing.assert_allclose(plotted(page, "gradient")["l1"]["y"], np.sign(x), rtol=0)
    # formulas from the catalog, typeset as MathML
    card = page.locator('article[data-loss="smooth_l1"]')
    assert card.locator("math").count() == 3
    assert "β" in card.locator("label").first.inner_text()
    (artifact_dir() / "timings-first-render.json").write_text(
        json.dumps({"first_render_ms": first})
    )


def test_slider_moves_the_plotted_curves(watched: Watched) -> None:
    page = watched.open("/")
    slider = page.locator("#param-smooth_l1-beta")
    slider.focus()
    for _ in range(10):  # step 0.05: beta 1.0 -> 1.5, one request per movement
        page.keyboard.press("ArrowRight")
    assert slider.input_value() == "1.5"
    # the last answer drawn: the value at x = 3 is |x| - beta / 2 = 2.25
    page.wait_for_function(
        "() => { const p = window.losscorePlayground.charts.value.plotted().smooth_l1;"
        " return Math.abs(p.y[p.y.length - 1] - 2.25) < 1e-12; }"
    )
    x = np.asarray(plotted(page, "value")["smooth_l1"]["x"])
    away = np.abs(np.abs(x) - 1.5) > 1e-9
    for chart, want in zip(("value", "gradient", "hessian"), smooth_l1(x, 1.5), strict=True):
        got = np.asarray(plotted(page, chart)["smooth_l1"]["y"])
        np.testing.assert_allclose(got[away], want[away], rtol=1e-13, atol=1e-15)
    assert page.locator('output[for="param-smooth_l1-beta"]').inner_text() == "1.5"
    timings = page.evaluate("() => window.losscorePlayground.timings.slider")
    assert timings, "no slider update was timed"
    # hovering reads the values under the pointer
    svg = page.locator("#chart-value svg")
    svg.scroll_into_view_if_needed()
    box = svg.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] / 2)
    readout = page.locator("#chart-value .readout").inner_text()
    assert "smooth_l1" in readout and "l2" in readout
    # ... and so do the arrow keys: End is the last grid point, x = 3
    svg.focus()
    page.keyboard.press("End")
    readout = page.locator("#chart-value .readout").inner_text()
    assert readout.startswith("x = 3:") and "smooth_l1 2.25" in readout
    (artifact_dir() / "timings-slider.json").write_text(json.dumps({"slider_ms": timings}))


def test_margin_axis_shows_classification_losses(watched: Watched) -> None:
    page = watched.open("/")
    page.get_by_label("classification margin z = y·f").check()
    # each loss's curve arrives on its own request: wait for the two read below
    page.wait_for_function(
        "() => { const p = window.losscorePlayground.charts.value.plotted();"
        " return 'hinge' in p && 'log_loss' in p && !('l1' in p); }"
    )
    hinge = plotted(page, "value")["hinge"]
    z = np.asarray(hinge["x"])
    np.testing.assert_allclose(hinge["y"], np.maximum(0.0, 1.0 - z), rtol=1e-15, atol=1e-15)
    log_loss = plotted(page, "value")["log_loss"]
    np.testing.assert_allclose(log_loss["y"], np.logaddexp(0.0, -z), rtol=1e-13)


PRED = [0.5, -1.2, 2.0, 3.5, 0.1, -0.4, 7.0]
TARGET = [0.0, -1.0, 2.5, 1.0, 0.0, 0.3, -2.0]
COMPARED = ["l1", "l2", "smooth_l1", "huber"]


def test_compare_table_matches_the_api_and_the_library(watched: Watched) -> None:
    page = watched.open("/")
    page.fill("#eval-pred", "\n".join(map(str, PRED)))
    page.fill("#eval-target", ", ".join(map(str, TARGET)))
    page.select_option("#eval-reduction", "sum")
    page.click("#eval-run")
    page.wait_for_selector("#eval-summary tbody tr >> nth=3")
    shown = {
        row.get_attribute("data-loss"): float(row.locator("td").get_attribute("data-value"))
        for row in page.locator("#eval-summary tbody tr").all()
    }
    api = httpx.post(
        watched.base + "/v1/compare",
        json={
            "losses": [{"name": n} for n in COMPARED],
            "prediction": PRED,
            "target": TARGET,
            "reduction": "sum",
        },
    ).json()
    assert shown == {r["loss"]["name"]: r["value"] for r in api["results"]}
    for name in COMPARED:
        want = losscore.evaluate(name, PRED, TARGET, reduction="sum").value
        assert shown[name] == pytest.approx(want, rel=1e-13)
    # per element: the chart's data and the download, against the library
    lines = plotted(page, "value")  # the Losses panel's charts are untouched
    assert "l1" in lines
    with page.expect_download() as info:
        page.click("#eval-download")
    table = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text())))
    assert [float(r["prediction"]) for r in table] == PRED
    for name in COMPARED:
        want = losscore.evaluate(name, PRED, TARGET, reduction="sum")
        np.testing.assert_allclose([float(r[f"loss_{name}"]) for r in table], want.elementwise)
        np.testing.assert_allclose([float(r[f"gradient_{name}"]) for r in table], want.gradient)


def _settle(page: Any) -> None:
    """Lets the page's handlers of a response that just arrived run."""
    page.evaluate("() => new Promise((resolve) => setTimeout(resolve, 250))")


def _hold_first(page: Any, pattern: str) -> list[Any]:
    """Routes *pattern* so that its first request is answered by the server at once but
    reaches the page only when the test calls the held function (the list's one item);
    later requests go through."""
    held: list[Any] = []

    def route(r: Any) -> None:
        if held:
            r.continue_()
            return
        answer = r.fetch()  # the server's answer now, as it was when asked
        held.append(lambda: r.fulfill(response=answer))

    page.route(pattern, route)
    return held


def _until_held(page: Any, held: list[Any]) -> None:
    while not held:
        page.wait_for_timeout(20)


def test_a_late_answer_does_not_replace_a_newer_one(watched: Watched) -> None:
    """Compare asked twice, the first answer held back until the second is shown: the page
    keeps the second (the latest question's answer wins); the models list likewise when an
    older refresh answers after a newer one."""
    page = watched.open("/")
    page.fill("#eval-pred", "\n".join(map(str, PRED)))
    page.fill("#eval-target", ", ".join(map(str, TARGET)))
    held = _hold_first(page, "**/v1/compare")
    page.select_option("#eval-reduction", "sum")
    page.click("#eval-run")
    _until_held(page, held)
    page.select_option("#eval-reduction", "mean")
    page.click("#eval-run")
    page.wait_for_selector("#eval-summary caption:has-text('(mean)')")
    with page.expect_response("**/v1/compare"):
        held[0]()
    _settle(page)
    assert "(mean)" in page.locator("#eval-summary caption").inner_text()
    shown = {
        row.get_attribute("data-loss"): float(row.locator("td").get_attribute("data-value"))
        for row in page.locator("#eval-summary tbody tr").all()
    }
    for name in COMPARED:
        assert shown[name] == pytest.approx(
            losscore.evaluate(name, PRED, TARGET, reduction="mean").value, rel=1e-13
        )
    # the models list: a refresh held back, a model stored, a second refresh shows it; the
    # first refresh's older page then arrives and must not replace the list
    held_list = _hold_first(page, "**/v1/models?*")
    page.click("#models-refresh")
    _until_held(page, held_list)
    body = {"task": "regression", "loss": {"name": "l2"}, "X": [[0.0], [1.0]], "y": [0.0, 1.0]}
    stored = httpx.post(watched.base + "/v1/train", json=body).json()["model_id"]
    page.click("#models-refresh")
    row = page.locator(f'tr[data-model-id="{stored}"]')
    row.wait_for()
    with page.expect_response("**/v1/models?*"):
        held_list[0]()
    _settle(page)
    assert row.count() == 1


def _iris() -> tuple[np.ndarray, np.ndarray]:
    rows = list(csv.DictReader(io.StringIO((SAMPLES / "iris.csv").read_text())))
    X = np.array([[float(r["sepal_length"]), float(r["petal_width"])] for r in rows])
    setosa = np.array([r["species"] == "setosa" for r in rows])
    return X, setosa


def _train_iris(page: Any) -> str:
    page.click("#train-run")
    page.wait_for_selector("#train-status[data-model-id]")
    model_id: str = page.locator("#train-status").get_attribute("data-model-id")
    return model_id


def test_training_streams_and_draws_the_models_boundary(watched: Watched) -> None:
    page = watched.open("/")
    model_id = _train_iris(page)
    events = page.evaluate("() => window.losscorePlayground.timings.trainEvents")
    assert events[0] == "progress" and events[-1] == "model" and "error" not in events
    assert page.locator("#train-progress").evaluate("p => p.value === p.max")
    model = httpx.get(f"{watched.base}/v1/models/{model_id}").json()
    assert model["loss"]["name"] == "hinge" and model["classes"] == ["not setosa", "setosa"]
    w = np.asarray(model["coef"][0])
    b = model["intercept"][0]
    lines = plotted(page, "data")
    for key, level in (("boundary", 0.0), ("margin+", 1.0), ("margin-", -1.0)):
        pts = np.column_stack([lines[key]["x"], lines[key]["y"]])
        np.testing.assert_allclose(pts @ w + b, level, atol=1e-9 * (1 + np.abs(pts @ w).max()))
    # the drawn points are the data, by class; the boundary separates setosa (separable here)
    X, setosa = _iris()
    assert len(lines["class-setosa"]["x"]) == setosa.sum() == 50
    assert np.array_equal((X @ w + b) > 0, setosa)
    objective = plotted(page, "objective")["objective"]
    assert objective["y"][-1] == pytest.approx(model["objective"], rel=1e-12)


def test_the_keyboard_alone_trains_a_model(watched: Watched) -> None:
    page = watched.open("/")

    def tab_to(predicate: str, limit: int = 400) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(f"() => {{ const e = document.activeElement; return {predicate}; }}"):
                return
        raise AssertionError(f"Tab never reached {predicate}")

    tab_to("e.name === 'train-source'")
    page.keyboard.press("ArrowDown")  # iris -> regression with outliers
    page.wait_for_function("() => document.getElementById('train-task').value === 'regression'")
    tab_to("e.id === 'train-run'")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused button shows no focus ring"
    page.keyboard.press("Enter")
    page.wait_for_selector("#train-status[data-model-id]")
    model_id = page.locator("#train-status").get_attribute("data-model-id")
    model = httpx.get(f"{watched.base}/v1/models/{model_id}").json()
    assert model["task"] == "regression" and model["loss"]["name"] == "huber"
    line = plotted(page, "data")["fit-huber"]
    slope = (line["y"][1] - line["y"][0]) / (line["x"][1] - line["x"][0])
    assert slope == pytest.approx(model["coef"][0][0], rel=1e-12)


def test_fitted_lines_of_four_losses_on_the_outlier_set(watched: Watched) -> None:
    page = watched.open("/")
    page.get_by_label("regression with outliers").check()
    page.wait_for_function("() => !document.getElementById('train-compare').hidden")
    page.click("#train-compare")
    page.wait_for_function(
        "() => ['l2', 'huber', 'smooth_l1', 'l1'].every("
        "n => 'fit-' + n in window.losscorePlayground.charts.data.plotted())"
    )
    rows = list(csv.DictReader(io.StringIO((SAMPLES / "outliers.csv").read_text())))
    x = np.array([float(r["x"]) for r in rows])
    y = np.array([float(r["y"]) for r in rows])
    slopes = {}
    for name, line in plotted(page, "data").items():
        if name.startswith("fit-"):
            slopes[name[4:]] = (line["y"][1] - line["y"][0]) / (line["x"][1] - line["x"][0])
    # l2 with α = 1e-4 is nearly least squares (numpy's lstsq, an independent solver)
    ls_slope = np.linalg.lstsq(np.column_stack([x, np.ones_like(x)]), y, rcond=None)[0][0]
    assert slopes["l2"] == pytest.approx(ls_slope, rel=1e-3)
    # the outliers (all pushed up, at large x) tilt l2's line; the robust ones stay near 2
    for robust in ("huber", "smooth_l1", "l1"):
        assert abs(slopes[robust] - 2.0) < abs(slopes["l2"] - 2.0) / 2, slopes


def test_stored_models_load_download_and_delete(watched: Watched) -> None:
    page = watched.open("/")
    model_id = _train_iris(page)
    row = page.locator(f'tr[data-model-id="{model_id}"]')
    row.wait_for()
    row.get_by_role("button", name=re.compile("^Load model")).click()
    page.wait_for_selector(f"#model-details h3:has-text('{model_id}')")
    with page.expect_download() as info:
        row.get_by_role("button", name=re.compile("^Download JSON")).click()
    downloaded = json.loads(Path(info.value.path()).read_text())
    stored = httpx.get(f"{watched.base}/v1/models/{model_id}").json()
    assert downloaded == stored
    delete = row.get_by_role("button", name=re.compile("^Delete model"))
    delete.click()
    row.get_by_role("button", name=re.compile("^Confirm")).click()
    row.wait_for(state="detached")
    assert httpx.get(f"{watched.base}/v1/models/{model_id}").status_code == 404


def test_no_serious_accessibility_violations(watched: Watched) -> None:
    page = watched.open("/")
    _train_iris(page)
    page.fill("#eval-pred", "1, 2")
    page.fill("#eval-target", "0, 2")
    page.click("#eval-run")
    page.wait_for_selector("#eval-summary tbody tr")
    violations = run_axe(page)
    assert not violations, json.dumps(
        [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in violations],
        indent=1,
    )
    page.screenshot(path=str(artifact_dir() / "playground-desktop.png"), full_page=True)


def test_usable_at_375_px(phone: Watched) -> None:
    page = phone.open("/")
    _train_iris(page)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 375, f"the page scrolls sideways: {width} px wide"
    assert not run_axe(page)
    # the training controls are reachable and large enough to tap
    box = page.locator("#train-run").bounding_box()
    assert box["height"] >= 24 and box["x"] >= 0 and box["x"] + box["width"] <= 375
    page.screenshot(path=str(artifact_dir() / "playground-375px.png"), full_page=True)


def test_offline_swagger_ui_and_redoc(watched: Watched) -> None:
    page = watched.open("/docs")
    page.wait_for_selector(".opblock")
    spec = httpx.get(watched.base + "/openapi.json").json()
    operations = sum(len(v) for v in spec["paths"].values())
    assert page.locator(".opblock").count() == operations
    page.screenshot(path=str(artifact_dir() / "swagger-ui.png"))
    page = watched.open("/redoc")
    page.wait_for_selector("h1:has-text('losscore')")
    assert page.locator("[role=menuitem]").count() >= 10
    # everything came from the service itself (the fixture fails on anything else)
    assert any("/static/vendor/redoc/" in u for u in watched.requests)


def test_uploaded_csvs_evaluate_and_train(watched: Watched, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    a = np.concatenate([rng.normal(-2, 1, 40), rng.normal(2, 1, 40)])
    b = np.concatenate([rng.normal(1, 1, 40), rng.normal(-1, 1, 40)])
    label = ["left"] * 40 + ["right"] * 40
    train_csv = tmp_path / "blobs.csv"
    train_csv.write_text(
        "a,b,label\n"
        + "".join(
            f"{x!r},{y!r},{c}\n" for x, y, c in zip(a.tolist(), b.tolist(), label, strict=True)
        )
    )
    pred, target = rng.normal(size=30), rng.normal(size=30)
    eval_csv = tmp_path / "eval.csv"
    eval_csv.write_text(
        "id,p,t\n"
        + "".join(
            f"{i},{x!r},{y!r}\n"
            for i, (x, y) in enumerate(zip(pred.tolist(), target.tolist(), strict=True))
        )
    )
    page = watched.open("/")
    # evaluate: the CSV's columns become choices
    page.set_input_files("#eval-file", str(eval_csv))
    page.wait_for_selector("#eval-columns:not([hidden])")
    page.select_option("#eval-pred-col", "p")
    page.select_option("#eval-target-col", "t")
    page.click("#eval-run")
    page.wait_for_selector("#eval-summary tbody tr")
    row = page.locator('#eval-summary tr[data-loss="huber"] td')
    want = losscore.evaluate("huber", pred, target, reduction="mean").value
    assert float(row.get_attribute("data-value")) == pytest.approx(want, rel=1e-13)
    # train: numeric columns are the features, the last column the target
    page.get_by_label("my CSV file").check()
    page.set_input_files("#train-file", str(train_csv))
    page.wait_for_function("() => document.getElementById('train-target').value === 'label'")
    page.select_option("#train-positive", "")  # both classes: one binary model
    model_id = _train_iris(page)
    model = httpx.get(f"{watched.base}/v1/models/{model_id}").json()
    assert model["n_features"] == 2 and model["classes"] == ["left", "right"]
    w, b0 = np.asarray(model["coef"][0]), model["intercept"][0]
    boundary = plotted(page, "data")["boundary"]
    pts = np.column_stack([boundary["x"], boundary["y"]])
    np.testing.assert_allclose(pts @ w + b0, 0.0, atol=1e-9 * (1 + np.abs(pts @ w).max()))
    # the model separates the two blobs (almost): its accuracy on them, computed here
    accuracy = np.mean((np.column_stack([a, b]) @ w + b0 > 0) == (np.asarray(label) == "right"))
    assert accuracy > 0.95


def test_a_server_with_keys_asks_for_one(browser: Any, tmp_path: Path) -> None:
    from service.auth import ApiKey, sha256_hex

    key = "lk_playground-browser-test"
    entry = ApiKey(name="browser", sha256=sha256_hex(key), scopes=["admin"], per_minute=10_000)
    with live_server(
        tmp_path, LOSSCORE_API_KEYS=json.dumps([entry.model_dump()]), LOSSCORE_WEB_DIR=str(WEB_DIR)
    ) as base:
        w = watch(browser, base)
        try:
            page = w.open("/")  # the catalog and curves are open; the model list is not
            assert "needs an API key" in page.locator("#status").inner_text()
            page.click("#train-run")
            page.wait_for_selector("#train-status:has-text('needs an API key')")
            page.fill("#api-key", key)
            page.locator("#api-key").dispatch_event("change")
            model_id = _train_iris(page)
            stored = httpx.get(f"{base}/v1/models/{model_id}", headers={"X-API-Key": key})
            assert stored.status_code == 200
            assert not w.foreign
            # the browser logs each 401 answer as a failed resource load; nothing else
            assert all("status of 401" in e for e in w.errors), w.errors
        finally:
            w.page.context.close()
