// The scenario of tests/clients/scenario.py through the typescript-fetch client, compiled with
// `tsc --strict` together with the generated code. Requests are typed object literals (nested
// lists, tensors, unions); responses are the client's parsed models, written back as JSON with
// its own ...ToJSON functions for the Python test to check against losscore.
// usage: BASE=http://127.0.0.1:PORT node scenario.js INPUTS.json
import { readFileSync } from "fs";
import {
  Configuration,
  EvaluateApi,
  HealthApi,
  LossesApi,
  ModelsApi,
  NormsApi,
  PlotsApi,
  ResponseError,
  TrainingApi,
} from "./index";
import {
  CompareResponseToJSON,
  CurveResponseToJSON,
  DatasetEvaluateResponseToJSON,
  EvaluateRequest,
  EvaluateResponseToJSON,
  Model,
  ModelFromJSON,
  ModelToJSON,
  NormEvaluateResponseToJSON,
  PredictResponseToJSON,
  TrainProgressFromJSON,
  TrainProgressToJSON,
  TrainRequest,
} from "./models/index";

interface Inputs {
  Xc: number[][];
  yc: string[];
  Xm: number[][];
  ym: number[];
  Xr: number[][];
  yr: number[];
  Xr_b64: string;
  csv: string;
  p32: number[];
  binary_octets: string;
  npy_prediction: string;
  npy_target: string;
  b64_prediction: string;
  b64_weight: string;
}

const inputs: Inputs = JSON.parse(readFileSync(process.argv[2], "utf8"));
const config = new Configuration({ basePath: process.env.BASE, apiKey: process.env.API_KEY });
const bytes = (b64: string): Blob => new Blob([Buffer.from(b64, "base64")]);

function events(text: string): Array<[string, unknown]> {
  return text
    .trim()
    .split("\n\n")
    .map((block) => {
      const fields = new Map(block.split("\n").map((l) => [l.slice(0, l.indexOf(": ")), l.slice(l.indexOf(": ") + 2)]));
      return [fields.get("event") ?? "", JSON.parse(fields.get("data") ?? "null")];
    });
}

async function main(): Promise<void> {
  const health = new HealthApi(config);
  const losses = new LossesApi(config);
  const plots = new PlotsApi(config);
  const norms = new NormsApi(config);
  const ev = new EvaluateApi(config);
  const training = new TrainingApi(config);
  const models = new ModelsApi(config);
  const r: Record<string, unknown> = {};

  r.healthz = { status: (await health.healthz()).status };
  try {
    await new ModelsApi(new Configuration({ basePath: process.env.BASE })).listModels();
    r.keyless = null;
  } catch (e) {
    r.keyless = e instanceof ResponseError ? e.response.status : -1;
  }
  r.readyz = { losses: (await health.readyz()).losses };
  r.metrics = (await health.metrics()).includes("losscore_http_requests_total");
  r.list_losses = (await losses.listLosses()).losses.map((l) => l.name);
  r.get_loss = { name: (await losses.getLoss({ name: "mse" })).name };
  r.curve = CurveResponseToJSON(await losses.lossCurve({ name: "huber", start: -3, stop: 3, num: 5, delta: 2.0 }));
  r.plot = await (await plots.plotLosses({ names: "l1,l2" })).text();
  r.list_norms = (await norms.listNorms()).norms.map((n) => n.name);
  r.evaluate_norm = NormEvaluateResponseToJSON(
    await norms.evaluateNorm({ normEvaluateRequest: { norm: { name: "l1" }, x: [3.0, -0.5], step: 1.0 } }),
  );

  const nested: EvaluateRequest = {
    loss: { name: "huber", delta: 1.0 },
    prediction: [[0.5, 3.0], [-2.0, 0.1]],
    target: [[0.0, 0.0], [0.0, 0.0]],
    reduction: "mean",
    hessian: true,
  };
  const data32: EvaluateRequest = {
    loss: { name: "smooth_l1", beta: 0.5 },
    prediction: { shape: [2, 2], dtype: "float32", data: inputs.p32 },
    target: [[0.0, 0.0], [0.0, 0.0]],
    reduction: "sum",
  };
  const b64: EvaluateRequest = {
    loss: { name: "l2" },
    prediction: { shape: [3], dtype: "float64", b64: inputs.b64_prediction },
    target: [0.0, 1.0, 2.0],
    weight: { shape: [3], dtype: "float64", b64: inputs.b64_weight },
  };
  const scalar: EvaluateRequest = { loss: { name: "mse" }, prediction: 2.0, target: 0.5, reduction: "none" };
  const overflow: EvaluateRequest = {
    loss: { name: "exponential" },
    prediction: [-1000.0, 0.0],
    target: [1.0, 1.0],
    reduction: "sum",
  };
  for (const [key, body] of [
    ["evaluate_list", nested],
    ["evaluate_data32", data32],
    ["evaluate_b64", b64],
    ["evaluate_scalar", scalar],
    ["evaluate_overflow", overflow],
  ] as Array<[string, EvaluateRequest]>) {
    r[key] = EvaluateResponseToJSON(await ev.evaluate({ evaluateRequest: body }));
  }
  r.compare = CompareResponseToJSON(
    await ev.compare({
      compareRequest: {
        losses: [{ name: "l1" }, { name: "l2" }, { name: "smooth_l1", beta: 0.5 }],
        prediction: [0.2, -2.0],
        target: [0.0, 0.0],
      },
    }),
  );
  r.evaluate_dataset = DatasetEvaluateResponseToJSON(
    await ev.evaluateDataset({
      datasetEvaluateRequest: {
        loss: { name: "l2" },
        dataset: { format: "csv", path: "preds.csv", prediction: ["p"], target: "t" },
        reduction: "sum",
      },
    }),
  );
  r.evaluate_binary = EvaluateResponseToJSON(
    await ev.evaluateBinary({
      xLosscoreRequest: JSON.stringify({ loss: { name: "l1" }, encoding: "list", prediction_shape: [3] }),
      body: bytes(inputs.binary_octets),
    }),
  );
  r.evaluate_npy = EvaluateResponseToJSON(
    await ev.evaluateNpy({
      request: JSON.stringify({ loss: { name: "huber", delta: 1.0 }, encoding: "list" }),
      prediction: bytes(inputs.npy_prediction),
      target: bytes(inputs.npy_target),
    }),
  );

  const classification: TrainRequest = {
    task: "classification",
    loss: { name: "svm" },
    penalty: { name: "l2", alpha: 0.01 },
    x: inputs.Xc,
    y: inputs.yc,
  };
  const bodies: Array<[string, TrainRequest]> = [
    ["train_classification", classification],
    [
      "train_multiclass",
      {
        task: "classification",
        loss: { name: "softmax_cross_entropy", labelSmoothing: 0.1 },
        penalty: { name: "l2", alpha: 0.001 },
        x: inputs.Xm,
        y: inputs.ym,
      },
    ],
    [
      "train_regression",
      {
        task: "regression",
        loss: { name: "huber", delta: 1.5 },
        penalty: { name: "elastic_net", alpha: 0.01, l1Ratio: 0.3 },
        x: inputs.Xr,
        y: inputs.yr,
      },
    ],
    [
      "train_tensors",
      {
        task: "regression",
        loss: { name: "quantile", q: 0.3 },
        penalty: { name: "l1", alpha: 0.01 },
        x: { shape: [40, 3], dtype: "float64", b64: inputs.Xr_b64 },
        y: { shape: [40], dtype: "float64", data: inputs.yr },
      },
    ],
  ];
  for (const [key, body] of bodies) {
    r[key] = ModelToJSON(await training.train({ trainRequest: body }));
  }
  r.train_upload = ModelToJSON(
    await training.trainUpload({
      request: JSON.stringify({ task: "regression", loss: { name: "l2" }, target: "target" }),
      data: new Blob([inputs.csv], { type: "text/csv" }),
    }),
  );
  const stream = events(await training.trainStream({ trainRequest: classification }));
  const last: Model = ModelFromJSON(stream[stream.length - 1][1]);
  r.train_stream = {
    events: stream.map(([e]) => e),
    first_progress: TrainProgressToJSON(TrainProgressFromJSON(stream[0][1])),
    model: ModelToJSON(last),
  };

  const listed: string[] = [];
  let cursor: string | null | undefined = undefined;
  do {
    const page = await models.listModels({ limit: 2, cursor: cursor ?? undefined });
    listed.push(...page.models.map((m) => m.modelId));
    cursor = page.nextCursor;
  } while (cursor);
  r.list_models = listed;
  const clsId = (r.train_classification as { model_id: string }).model_id;
  r.get_model = ModelToJSON(await models.getModel({ modelId: clsId }));
  r.predict_list = PredictResponseToJSON(
    await models.predict({ modelId: clsId, predictRequest: { x: inputs.Xc.slice(0, 5) } }),
  );
  const xm = Buffer.from(new Float64Array(inputs.Xm.slice(0, 5).flat()).buffer).toString("base64");
  r.predict_b64 = PredictResponseToJSON(
    await models.predict({
      modelId: (r.train_multiclass as { model_id: string }).model_id,
      predictRequest: { x: { shape: [5, 2], b64: xm } },
    }),
  );
  const gone = (r.train_regression as { model_id: string }).model_id;
  const deleted = (await models.deleteModelRaw({ modelId: gone })).raw.status;
  let then = 0;
  try {
    await models.getModel({ modelId: gone });
  } catch (e) {
    then = e instanceof ResponseError ? e.response.status : -1;
  }
  r.delete = { deleted, then };
  process.stdout.write(JSON.stringify(r));
}

main().catch((e: unknown) => {
  process.stderr.write(`scenario failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
