"""HTTP smoke test run *inside* the container's network namespace (stdlib only).

    docker exec -i NAME python - calls              < .ci/docker/smoke.py
    docker exec -i NAME python - persisted MODEL_ID < .ci/docker/smoke.py
    docker run -i --network container:NAME IMAGE python - inflight < .ci/docker/smoke.py

`calls` checks /healthz, POST /v1/evaluate (value and gradient of a known case)
and, when the app's OpenAPI lists it, POST /v1/train (prints `model_id=...`).
`persisted` checks that a stored model is still served after a restart on the
same volume. `inflight` holds a request open half-sent, prints `ready`, and
finishes it after the server received SIGTERM: it must still get its answer.
`healthz-time T0_NS TIMEOUT_S` (on the host, in the container's network namespace through
nsenter) polls /healthz every 0.1 s and prints the seconds from T0_NS (the wall clock in
nanoseconds when `docker run` / `docker start` was called) until its first 200.
`write-dataset PATH` (on the host) writes a CSV; `dataset PATH` trains on it through the
service's Dask scheduler and worker (containers of the same image).
"""

import json
import math
import os
import socket
import sys
import time
import urllib.error
import urllib.request

BASE = "http://127.0.0.1:%s" % os.environ.get("PORT", "8000")
EVALUATE = {
    "loss": {"name": "huber", "delta": 1.0},
    "prediction": [0.1, 2.0],
    "target": [0.0, 0.0],
}
# huber(0.1) = 0.5 * 0.1**2 = 0.005, huber(2.0) = 1.0 * (2.0 - 0.5) = 1.5; mean = 0.7525
EXPECTED_VALUE = 0.7525
EXPECTED_GRADIENT = [0.05, 0.5]  # d mean / d prediction = [0.1, 1.0] / 2


def call(method, path, body=None, expect=200):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            status, raw, ctype = resp.status, resp.read(), resp.headers.get("content-type", "")
    except urllib.error.HTTPError as exc:
        status, raw, ctype = exc.code, exc.read(), ""
    ms = (time.perf_counter() - start) * 1000
    print("  %s %s -> %d (%.0f ms)" % (method, path, status, ms), flush=True)
    if status != expect:
        sys.exit("FAIL: %s %s answered %d, expected %d: %s" % (method, path, status, expect, raw[:2000]))
    return json.loads(raw) if raw and "json" in ctype else raw


def close(a, b, tol=1e-9):
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def check_evaluate(out):
    value, gradient = out.get("value"), out.get("gradient")
    if value is None or not close(value, EXPECTED_VALUE):
        sys.exit("FAIL: evaluate value %r, expected %r: %r" % (value, EXPECTED_VALUE, out))
    if not (isinstance(gradient, list) and all(map(close, gradient, EXPECTED_GRADIENT))):
        sys.exit("FAIL: evaluate gradient %r, expected %r" % (gradient, EXPECTED_GRADIENT))
    print("  evaluate huber(delta=1): value=%r gradient=%r (expected)" % (value, gradient))


def model_path(paths):
    """The OpenAPI path of one stored model (e.g. /v1/models/{model_id}), if any."""
    return next((p for p in paths if p.startswith("/v1/models/{") and p.endswith("}")), None)


def check_page():
    """The playground page and the offline docs are in the image (make web, before the build)."""
    page = call("GET", "/").decode()
    if "static/playground/app.js" not in page:
        sys.exit("FAIL: / is not the playground page: %r" % page[:300])
    for path in ("/static/playground/app.js", "/docs", "/redoc",
                 "/static/vendor/swagger-ui/swagger-ui-bundle.js",
                 "/static/vendor/redoc/redoc.standalone.js", "/static/samples/iris.csv"):
        size = len(call("GET", path))
        if size < 100:
            sys.exit("FAIL: %s has only %d bytes" % (path, size))
    print("  playground page, Swagger UI and ReDoc served from the image")


def calls():
    call("GET", "/healthz")
    check_page()
    paths = call("GET", "/openapi.json")["paths"]
    check_evaluate(call("POST", "/v1/evaluate", EVALUATE))
    if "/v1/train" not in paths:
        print("  /v1/train is not in the app's OpenAPI yet: training call skipped")
        return
    # y = 2 x + 1 exactly: least squares without penalty recovers it.
    body = {
        "task": "regression",
        "loss": {"name": "l2"},
        "penalty": {"name": "none"},
        "X": [[0.0], [1.0], [2.0], [3.0], [4.0]],
        "y": [1.0, 3.0, 5.0, 7.0, 9.0],
        "fit_intercept": True,
    }
    out = call("POST", "/v1/train", body)
    model_id, coef, intercept = out.get("model_id"), out.get("coef"), out.get("intercept")
    if not model_id:
        sys.exit("FAIL: /v1/train returned no model_id: %r" % (out,))
    if not (
        isinstance(coef, list)
        and close(coef[0][0], 2.0, 1e-4)  # coef [n_outputs][n_features], intercept [n_outputs]
        and close(float(intercept[0]), 1.0, 1e-4)
    ):
        sys.exit("FAIL: /v1/train coef=%r intercept=%r, expected [[2.0]] and [1.0]" % (coef, intercept))
    print("  train l2: coef=%r intercept=%r (expected [[2]], [1])" % (coef, intercept))
    if model_path(paths):
        print("model_id=%s" % model_id)  # read by docker.sh for the restart check


def persisted(model_id):
    paths = call("GET", "/openapi.json")["paths"]
    template = model_path(paths)
    if template is None:
        print("  no /v1/models/{id} route: persistence check skipped")
        return
    out = call("GET", template[: template.index("{")] + model_id)
    print("  model %s still served after restart (%s)" % (model_id, sorted(out)[:6]))


def healthz_time(t0_ns, timeout_s):
    """Seconds from t0_ns (time.time_ns() clock) until GET /healthz first answers 200."""
    deadline = time.monotonic() + float(timeout_s)
    polls, last = 0, "no answer"
    while time.monotonic() < deadline:
        polls += 1
        try:
            with urllib.request.urlopen(BASE + "/healthz", timeout=1) as resp:
                if resp.status == 200:
                    elapsed = (time.time_ns() - int(t0_ns)) / 1e9
                    print("healthz_s=%.2f polls=%d" % (elapsed, polls), flush=True)
                    return
                last = "status %d" % resp.status
        except (OSError, urllib.error.URLError) as exc:
            last = repr(exc)
        time.sleep(0.1)
    sys.exit("FAIL: /healthz did not answer 200 within %s s (last: %s)" % (timeout_s, last))


def write_dataset(path):
    """A CSV of 2,000 rows, label 'pos' where x1 + x2 > 0 (separable), for the dataset phase."""
    import random

    rng = random.Random(0)
    with open(path, "w") as fh:
        fh.write("x1,x2,label\n")
        for _ in range(2000):
            x1, x2 = rng.uniform(-1, 1), rng.uniform(-1, 1)
            if abs(x1 + x2) < 0.05:  # a margin: the hinge fit separates it exactly
                continue
            fh.write("%r,%r,%s\n" % (x1, x2, "pos" if x1 + x2 > 0 else "neg"))
    print("  wrote %s" % path)


def dataset(path):
    """POST /v1/train with a dataset reference, fitted by the scheduler's worker: retried
    while the service starts and the scheduler is not yet reachable (503)."""
    body = {
        "task": "classification",
        "loss": {"name": "hinge"},
        "penalty": {"name": "l2", "alpha": 0.001},
        "dataset": {"format": "csv", "path": path, "target": "label"},
    }
    deadline = time.monotonic() + 120
    while True:
        try:
            data = json.dumps(body).encode()
            req = urllib.request.Request(BASE + "/v1/train", data=data, method="POST")
            req.add_header("Content-Type", "application/json")
            with urllib.request.urlopen(req, timeout=120) as resp:
                out = json.loads(resp.read())
            break
        except (urllib.error.URLError, ConnectionError, OSError) as exc:
            code = getattr(exc, "code", None)
            if code not in (None, 503) or time.monotonic() > deadline:
                detail = exc.read()[:2000] if hasattr(exc, "read") else exc
                sys.exit("FAIL: dataset fit: %r %r" % (exc, detail))
            time.sleep(1.0)
    prov = out.get("provenance", {})
    if prov.get("engine") != "dask" or not out.get("passes") or out["metrics"]["accuracy"] != 1.0:
        sys.exit("FAIL: dataset fit %r" % ({k: out.get(k) for k in ("provenance", "passes", "metrics")},))
    print("  dataset fit on the Dask worker: %s, %d passes, accuracy %r, converged %r" % (
        out["solver"], out["passes"], out["metrics"]["accuracy"], out["converged"]))


def inflight():
    """Send headers and half the body, wait for the SIGTERM, send the rest."""
    body = json.dumps(EVALUATE).encode()
    head = (
        "POST /v1/evaluate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        "Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
    ).encode()
    sock = socket.create_connection(("127.0.0.1", int(os.environ.get("PORT", "8000"))), timeout=30)
    sock.sendall(head + body[: len(body) // 2])
    print("ready", flush=True)
    time.sleep(float(os.environ.get("INFLIGHT_DELAY", "1.0")))  # docker stop happens now
    sock.sendall(body[len(body) // 2 :])
    raw = b""
    while chunk := sock.recv(65536):
        raw += chunk
    head_raw, _, payload = raw.partition(b"\r\n\r\n")
    status_line = head_raw.split(b"\r\n", 1)[0].decode()
    if " 200 " not in status_line + " ":
        sys.exit("FAIL: in-flight request answered %r: %r" % (status_line, payload[:500]))
    if b"transfer-encoding: chunked" in head_raw.lower():
        sys.exit("FAIL: unexpected chunked response to the in-flight request")
    check_evaluate(json.loads(payload))
    print("inflight ok: request sent across SIGTERM completed with %s" % status_line, flush=True)


if __name__ == "__main__":
    phase, args = sys.argv[1], sys.argv[2:]
    phases = {"calls": calls, "persisted": persisted, "inflight": inflight,
              "write-dataset": write_dataset, "dataset": dataset, "healthz-time": healthz_time}
    phases[phase](*args)
