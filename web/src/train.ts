// The Train panel: data (a sample or an uploaded CSV; feature and target columns), task,
// loss, penalty and α; POST /v1/train/stream with the objective drawn live as progress events
// arrive; then the data with the decision boundary and margins (classification, two
// features) or the fitted line (regression, one feature), and the same line for other losses.
import type { LossInfo, Model, Penalty, TrainableLoss, TrainProgress, TrainRequest } from "./api/index";
import { ModelFromJSON, TrainProgressFromJSON } from "./api/index";
import { type Dots, type Line, Chart, PALETTE } from "./chart";
import { apis, basePath, describeError } from "./client";
import { isNumericColumn, numericColumn, parseCsv, type Table, textColumn } from "./csv";
import { fmt, rows } from "./numbers";
import { byId, camelKeys, element, readFile, status, timings } from "./page";

interface Preset {
  file: string;
  features: string[];
  target: string;
  positive: string;
  task: "classification" | "regression";
  loss: string;
  alpha: number;
}

const PRESETS: Record<string, Preset> = {
  iris: { file: "iris.csv", features: ["sepal_length", "petal_width"], target: "species", positive: "setosa", task: "classification", loss: "hinge", alpha: 0.01 },
  outliers: { file: "outliers.csv", features: ["x"], target: "y", positive: "", task: "regression", loss: "huber", alpha: 0.0001 },
};
const COMPARED = ["l2", "huber", "smooth_l1", "l1"];

export interface Data {
  X: number[][];
  y: Array<number | string>;
  features: string[];
}

/** Points (x, y) where w·p + b = level, across the box: the boundary (0) or a margin (±1). */
export function levelLine(w: number[], b: number, level: number, box: { x0: number; x1: number; y0: number; y1: number }): { x: number[]; y: number[] } {
  const [w0, w1] = w;
  if (Math.abs(w1) > 1e-12 * Math.max(1, Math.abs(w0))) {
    const xs = [box.x0, box.x1];
    return { x: xs, y: xs.map((x) => (level - b - w0 * x) / w1) };
  }
  const x = (level - b) / w0;
  return { x: [x, x], y: [box.y0, box.y1] };
}

/** Events of a text/event-stream body, as they arrive. */
async function* sse(body: ReadableStream<Uint8Array>): AsyncGenerator<[string, unknown]> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
    let cut: number;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let event = "message";
      let data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data += line.slice(5).trim();
      }
      yield [event, data ? JSON.parse(data) : null];
    }
  }
}

export class TrainPanel {
  private table: Table | null = null;
  private data: Data | null = null;
  private abort: AbortController | null = null;
  readonly objective = new Chart(byId("train-chart-objective"), "Objective during the fit", "iteration", "objective");
  readonly scatter = new Chart(byId("train-chart-data"), "Data and model", "feature 1", "feature 2 / target");
  model: Model | null = null;
  onStored: () => void = () => undefined;

  constructor(private readonly catalog: LossInfo[]) {
    document.querySelectorAll<HTMLInputElement>('input[name="train-source"]').forEach((r) =>
      r.addEventListener("change", () => r.checked && void this.source(r.value)),
    );
    byId("train-file").addEventListener("change", () => void this.upload());
    byId("train-task").addEventListener("change", () => this.renderLosses());
    byId("train-loss").addEventListener("change", () => this.renderLossParams());
    byId("train-penalty").addEventListener("change", () => this.renderPenalty());
    byId("train-target").addEventListener("change", () => this.renderPositive());
    byId("train-form").addEventListener("submit", (e) => {
      e.preventDefault();
      void this.run();
    });
    byId("train-cancel").addEventListener("click", () => this.abort?.abort());
    byId("train-compare").addEventListener("click", () => void this.compare());
    this.renderLosses();
    this.renderPenalty();
  }

  async start(): Promise<void> {
    await this.source("iris");
  }

  private async source(kind: string): Promise<void> {
    byId("train-file").toggleAttribute("disabled", kind !== "upload");
    if (kind === "upload") return;
    const preset = PRESETS[kind];
    try {
      const response = await fetch(`${basePath}/static/samples/${preset.file}`);
      if (!response.ok) throw new Error(`${preset.file}: ${response.status}`);
      this.setTable(parseCsv(await response.text()), preset);
    } catch (e) {
      status(`Sample: ${await describeError(e)}`, true);
    }
  }

  private async upload(): Promise<void> {
    try {
      this.setTable(parseCsv(await readFile(byId<HTMLInputElement>("train-file"))));
    } catch (e) {
      status(`CSV: ${await describeError(e)}`, true);
    }
  }

  private setTable(t: Table, preset?: Preset): void {
    this.table = t;
    const numeric = t.header.filter((h) => isNumericColumn(t, h));
    const target = preset?.target ?? t.header[t.header.length - 1];
    const features = preset?.features ?? numeric.filter((h) => h !== target);
    const boxes = numeric.map((h) => {
      const input = element("input", { type: "checkbox", name: "train-feature", value: h, id: `feature-${h}` });
      input.checked = features.includes(h);
      return element("label", { for: `feature-${h}`, class: "check" }, input, ` ${h}`);
    });
    byId("train-features").replaceChildren(element("legend", {}, "Feature columns"), ...boxes);
    byId("train-target").replaceChildren(
      ...t.header.map((h) => {
        const o = element("option", { value: h }, h);
        o.selected = h === target;
        return o;
      }),
    );
    if (preset) {
      byId<HTMLSelectElement>("train-task").value = preset.task;
      this.renderLosses(preset.loss);
      byId<HTMLInputElement>("train-alpha").value = String(preset.alpha);
    }
    this.renderPositive(preset?.positive);
    byId("train-compare").hidden = byId<HTMLSelectElement>("train-task").value !== "regression";
    status(`Data: ${t.rows.length} rows, columns ${t.header.join(", ")}.`);
  }

  private renderPositive(positive?: string): void {
    const t = this.table;
    const select = byId<HTMLSelectElement>("train-positive");
    if (!t) return;
    const target = byId<HTMLSelectElement>("train-target").value;
    const classes = [...new Set(textColumn(t, target))].sort();
    const all = element("option", { value: "" }, "all classes (one model per class)");
    select.replaceChildren(
      all,
      ...classes.slice(0, 50).map((c) => {
        const o = element("option", { value: c }, `${c} against the rest`);
        o.selected = c === positive;
        return o;
      }),
    );
  }

  private renderLosses(chosen?: string): void {
    const task = byId<HTMLSelectElement>("train-task").value;
    const select = byId<HTMLSelectElement>("train-loss");
    const options = this.catalog
      .filter((s) => (s.training.tasks as string[]).includes(task))
      .map((s) => {
        const o = element("option", { value: s.name }, `${s.title} (${s.name})`);
        o.selected = s.name === chosen;
        return o;
      });
    select.replaceChildren(...options);
    byId("train-compare").hidden = task !== "regression";
    this.renderLossParams();
  }

  private renderLossParams(): void {
    const spec = this.catalog.find((s) => s.name === byId<HTMLSelectElement>("train-loss").value);
    const inputs = (spec?.parameters ?? []).map((p) => {
      const id = `train-param-${p.name}`;
      return element(
        "label",
        { for: id },
        `${p.name} (${p.interval.text}) `,
        element("input", { type: "number", id, "data-param": p.name, value: p._default, step: "any", required: true }),
      );
    });
    byId("train-loss-params").replaceChildren(...inputs);
  }

  private renderPenalty(): void {
    const name = byId<HTMLSelectElement>("train-penalty").value;
    byId("train-l1-ratio-label").hidden = name !== "elastic_net";
    byId("train-alpha-label").hidden = name === "none";
  }

  /** The chosen features and target as arrays; an error names the column or row at fault. */
  private collect(): Data {
    const t = this.table;
    if (!t) throw new Error("choose a sample or upload a CSV first");
    const features = [...document.querySelectorAll<HTMLInputElement>('input[name="train-feature"]:checked')].map((i) => i.value);
    if (!features.length) throw new Error("choose at least one feature column");
    const target = byId<HTMLSelectElement>("train-target").value;
    if (features.includes(target)) throw new Error(`the target ${target} is also a feature`);
    const columns = features.map((f) => numericColumn(t, f));
    const X = t.rows.map((_, i) => columns.map((c) => c[i]));
    const task = byId<HTMLSelectElement>("train-task").value;
    let y: Array<number | string>;
    if (task === "regression") y = numericColumn(t, target);
    else {
      const positive = byId<HTMLSelectElement>("train-positive").value;
      const labels = textColumn(t, target);
      y = positive ? labels.map((v) => (v === positive ? positive : `not ${positive}`)) : labels;
    }
    return { X, y, features };
  }

  private request(data: Data, lossName?: string): TrainRequest {
    const name = lossName ?? byId<HTMLSelectElement>("train-loss").value;
    const params: Record<string, number> = {};
    if (!lossName) {
      document.querySelectorAll<HTMLInputElement>("#train-loss-params input").forEach((i) => {
        params[i.dataset.param as string] = Number(i.value);
      });
    }
    const penaltyName = byId<HTMLSelectElement>("train-penalty").value;
    const penalty = { name: penaltyName } as Record<string, unknown>;
    if (penaltyName !== "none") penalty.alpha = Number(byId<HTMLInputElement>("train-alpha").value);
    if (penaltyName === "elastic_net") penalty.l1Ratio = Number(byId<HTMLInputElement>("train-l1-ratio").value);
    return {
      task: byId<HTMLSelectElement>("train-task").value as TrainRequest["task"],
      loss: { name, ...camelKeys(params) } as TrainableLoss,
      penalty: penalty as unknown as Penalty,
      x: data.X,
      y: (typeof data.y[0] === "number" ? data.y : data.y.map(String)) as TrainRequest["y"],
      fitIntercept: byId<HTMLInputElement>("train-intercept").checked,
      maxIter: Number(byId<HTMLInputElement>("train-max-iter").value),
    };
  }

  private async run(): Promise<void> {
    const progress = byId<HTMLProgressElement>("train-progress");
    const button = byId<HTMLButtonElement>("train-run");
    const history: TrainProgress[] = [];
    try {
      const data = this.collect();
      const request = this.request(data);
      this.data = data;
      this.abort = new AbortController();
      button.disabled = true;
      byId<HTMLButtonElement>("train-cancel").disabled = false;
      progress.max = request.maxIter ?? 1000;
      progress.value = 0;
      progress.removeAttribute("value"); // indeterminate until the first event
      byId("train-status").textContent = "Fitting…";
      const response = await apis().training.trainStreamRaw({ trainRequest: request }, { signal: this.abort.signal });
      const body = response.raw.body;
      if (!body) throw new Error("the stream has no body");
      timings.trainEvents = [];
      let finished = false;
      status("Fitting…");
      for await (const [event, payload] of sse(body)) {
        timings.trainEvents.push(event);
        if (event === "progress") {
          const p = TrainProgressFromJSON(payload);
          history.push(p);
          progress.value = p.iteration;
          byId("train-status").textContent = `iteration ${p.iteration}: objective ${fmt(p.objective as number)}, optimality ${fmt(p.optimality as number)}`;
          this.objective.set([{ id: "objective", label: "objective", x: history.map((h) => h.iteration), y: history.map((h) => Number(h.objective)), color: PALETTE[0] }]);
        } else if (event === "model") {
          finished = true;
          this.finish(ModelFromJSON(payload), history);
        } else if (event === "error") {
          const message = (payload as { error?: { message?: string } }).error?.message ?? "the fit failed";
          throw new Error(message);
        }
      }
      if (!finished) throw new Error("the stream ended without a model (the server stopped?)");
    } catch (e) {
      byId("train-status").textContent = `Training failed: ${await describeError(e)}`;
      status(`Train: ${await describeError(e)}`, true);
    } finally {
      button.disabled = false;
      byId<HTMLButtonElement>("train-cancel").disabled = true;
      this.abort = null;
    }
  }

  private finish(model: Model, history: TrainProgress[]): void {
    this.model = model;
    const progress = byId<HTMLProgressElement>("train-progress");
    progress.value = progress.max;
    // the model's own per-iteration history: complete, where the stream sends at most one
    // event per 50 ms
    const objectives = model.history.map((v) => (v === null ? NaN : v));
    if (objectives.length >= history.length) {
      this.objective.set([{ id: "objective", label: "objective", x: objectives.map((_, i) => i + 1), y: objectives, color: PALETTE[0] }]);
    }
    byId("train-status").textContent = `Done: ${model.converged ? "converged" : "not converged"} (${model.stopReason}) after ${model.nIter} iterations; objective ${fmt(model.objective as number)}, optimality ${fmt(model.optimality as number)}. Stored as ${model.modelId}.`;
    byId("train-status").dataset.modelId = model.modelId;
    // the page's live region announces the end (the progress line itself is not live)
    status(`Trained and stored model ${model.modelId.slice(0, 8)}: ${model.converged ? "converged" : "not converged"}.`);
    this.show(model);
    this.onStored();
  }

  /** Draw *model* over the current data (when its feature count allows a picture). */
  show(model: Model, extra: Line[] = []): void {
    const data = this.data;
    const note = byId("train-plot-note");
    if (!data || data.X[0]?.length !== model.nFeatures) {
      note.textContent = "Train on data with one feature (regression) or two (classification) to see the model drawn.";
      return;
    }
    const coef = rows(model.coef);
    const intercept = model.intercept;
    if (model.task === "regression" && model.nFeatures === 1) {
      note.textContent = "";
      this.drawRegression(data, [{ label: String((model.loss as { name: string }).name), w: coef[0][0], b: intercept[0] ?? 0 }], extra);
    } else if (model.task === "classification" && model.nFeatures === 2) {
      note.textContent = "Solid: the decision boundary f(x) = 0; dashed: the margins f(x) = ±1.";
      this.drawClassification(data, model, coef, intercept);
    } else {
      note.textContent = "Train on data with one feature (regression) or two (classification) to see the model drawn.";
    }
  }

  private drawRegression(data: Data, fits: Array<{ label: string; w: number; b: number }>, extra: Line[]): void {
    const x = data.X.map((r) => r[0]);
    const lo = Math.min(...x);
    const hi = Math.max(...x);
    const lines: Line[] = fits.map((f, k) => ({ id: `fit-${f.label}`, label: `${f.label}: y = ${fmt(f.w)} x + ${fmt(f.b)}`, x: [lo, hi], y: [f.w * lo + f.b, f.w * hi + f.b], color: PALETTE[(k + 1) % PALETTE.length], cursor: false }));
    const dots: Dots[] = [{ id: "data", label: "data", x, y: data.y as number[], color: PALETTE[7], shape: "circle" }];
    this.scatter.labels(data.features[0], byId<HTMLSelectElement>("train-target").value);
    this.scatter.set([...lines, ...extra], dots);
  }

  private drawClassification(data: Data, model: Model, coef: number[][], intercept: number[]): void {
    const classes = (model.classes as Array<string | number>).map(String);
    const dots: Dots[] = classes.map((c, k) => {
      const idx = data.y.map((v, i) => (String(v) === c ? i : -1)).filter((i) => i >= 0);
      return { id: `class-${c}`, label: c, x: idx.map((i) => data.X[i][0]), y: idx.map((i) => data.X[i][1]), color: PALETTE[k % PALETTE.length], shape: k % 2 ? "circle" : "square" };
    });
    this.scatter.labels(data.features[0], data.features[1]);
    this.scatter.set([], dots); // sets the box from the data
    const box = this.scatter.bounds;
    const lines: Line[] = [];
    coef.forEach((w, k) => {
      const b = intercept[k] ?? 0;
      const suffix = coef.length === 1 ? "" : `-${classes[k]}`;
      // one output per class (one-vs-rest or multinomial): where that class's score is 0
      const label = coef.length === 1 ? `boundary (${classes[1]} where f > 0)` : `f_${classes[k]} = 0`;
      const color = coef.length === 1 ? "#111111" : PALETTE[k % PALETTE.length];
      lines.push({ id: `boundary${suffix}`, label, ...levelLine(w, b, 0, box), color, cursor: false });
      for (const level of [1, -1]) {
        lines.push({ id: `margin${level > 0 ? "+" : "-"}${suffix}`, label: `f = ${level}`, ...levelLine(w, b, level, box), color, dash: "6 4", cursor: false });
      }
    });
    this.scatter.set(lines, dots, box);
  }

  /** Fit l2, huber, smooth_l1 and l1 on the same data (POST /v1/train) and draw each line. */
  private async compare(): Promise<void> {
    try {
      const data = this.collect();
      if (data.features.length !== 1) throw new Error("choose exactly one feature column to compare fitted lines");
      this.data = data;
      status("Fitting l2, huber, smooth_l1 and l1…");
      const models = await Promise.all(COMPARED.map((name) => apis().training.train({ trainRequest: this.request(data, name) })));
      const fits = models.map((m) => ({ label: String((m.loss as { name: string }).name), w: rows(m.coef)[0][0], b: m.intercept[0] ?? 0 }));
      this.drawRegression(data, fits, []);
      byId("train-plot-note").textContent = "";
      status(`Fitted ${fits.map((f) => f.label).join(", ")}: the outliers pull l2's line, not the others'.`);
      this.onStored();
    } catch (e) {
      status(`Compare: ${await describeError(e)}`, true);
    }
  }
}
