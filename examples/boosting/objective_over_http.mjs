// One gradient-boosting step of a losscore catalog loss, in JavaScript (Node 20, no packages):
// the gradient and Hessian come from the losscore service's POST /v1/evaluate, exactly as
// losscore.integrations hands them to XGBoost or LightGBM (reduction "sum": per-sample
// g_i = w_i·dℓ/df and h_i = w_i·d²ℓ/df²). The step is a depth-1 tree (a stump) on one
// feature, with Newton leaf values −G/(H + λ), as a booster grows its first split.
//
//   node objective_over_http.mjs [BASE_URL] [INPUT.json]
//
// BASE_URL defaults to $LOSSCORE_URL or http://127.0.0.1:8000; $LOSSCORE_API_KEY is sent as a
// bearer token when set. INPUT.json: {"loss": {"name": ..., params}, "x": [...],
// "prediction": [...], "target": [...], "weight"?: [...], "lambda"?: 1, "max_step"?: Δ}
// (the demo without a file: pseudo_huber with max_step 1 on a step function).
// With "max_step" the Hessian is floored at |g|/Δ (the "floor" policy of docs/BOOSTING.md);
// the service returns the catalog's exact Hessian, so a loss whose Hessian is 0 (l1, hinge)
// needs a policy on the client side. Prints one JSON object.
import { readFile } from "node:fs/promises";

const base = process.argv[2] ?? process.env.LOSSCORE_URL ?? "http://127.0.0.1:8000";
const input = process.argv[3] ? JSON.parse(await readFile(process.argv[3], "utf8")) : demo();
const lambda = input.lambda ?? 1.0;

function demo() {
  // 40 points on [0, 1]: a step of height 3 at x = 0.5 plus a little deterministic noise
  const x = Array.from({ length: 40 }, (_, i) => i / 39);
  const target = x.map((xi, i) => (xi > 0.5 ? 3 : 0) + 0.1 * Math.sin(7 * i));
  // pseudo-Huber from a start 3 away from half the targets: its exact Hessian there is
  // (1 + 9)^(-3/2) ≈ 0.03, a Newton step of about 30; the floor at |g|/1 caps it at 1
  const prediction = x.map(() => 0);
  return { loss: { name: "pseudo_huber", delta: 1.0 }, x, target, prediction, max_step: 1.0 };
}

async function evaluate(prediction, reduction, hessian) {
  const body = { loss: input.loss, prediction, target: input.target, reduction, hessian };
  if (input.weight) body.weight = input.weight;
  const headers = { "content-type": "application/json" };
  if (process.env.LOSSCORE_API_KEY) headers.authorization = `Bearer ${process.env.LOSSCORE_API_KEY}`;
  const res = await fetch(`${base}/v1/evaluate`, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`POST /v1/evaluate answered ${res.status}: ${await res.text()}`);
  return res.json();
}

// The best stump on x: split between consecutive distinct x values maximising the gain
// G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ); leaves −G_L/(H_L+λ) and −G_R/(H_R+λ).
function bestStump(x, g, h) {
  const order = x.map((_, i) => i).sort((a, b) => x[a] - x[b]);
  const G = g.reduce((s, v) => s + v, 0);
  const H = h.reduce((s, v) => s + v, 0);
  const score = (gs, hs) => (hs + lambda > 0 ? (gs * gs) / (hs + lambda) : 0);
  let best = { threshold: null, gain: 0, left: -G / (H + lambda), right: -G / (H + lambda) };
  let gl = 0;
  let hl = 0;
  for (let k = 0; k + 1 < order.length; k++) {
    gl += g[order[k]];
    hl += h[order[k]];
    const [a, b] = [x[order[k]], x[order[k + 1]]];
    if (a === b) continue;
    const gain = score(gl, hl) + score(G - gl, H - hl) - score(G, H);
    if (gain > best.gain) {
      best = {
        threshold: (a + b) / 2,
        gain,
        left: -gl / (hl + lambda),
        right: -(G - gl) / (H - hl + lambda),
      };
    }
  }
  return best;
}

const first = await evaluate(input.prediction, "sum", true);
const gradient = first.gradient;
let hessian = first.hessian;
if (input.max_step !== undefined) {
  hessian = hessian.map((hi, i) => Math.max(hi, Math.abs(gradient[i]) / input.max_step));
}
const stump = bestStump(input.x, gradient, hessian);
const updated = input.prediction.map(
  (f, i) => f + (stump.threshold === null || input.x[i] <= stump.threshold ? stump.left : stump.right),
);
const before = await evaluate(input.prediction, "mean", false);
const after = await evaluate(updated, "mean", false);
console.log(
  JSON.stringify({
    loss: first.loss,
    gradient,
    hessian,
    stump,
    mean_loss_before: before.value,
    mean_loss_after: after.value,
  }),
);
