// The Evaluate panel: prediction / target columns (pasted or from a CSV) through POST
// /v1/compare: the reduced value of every chosen loss, and per-element losses and gradients
// as charts and a table, downloadable as CSV.
import type { CompareRequest, EvaluateResponse, Loss, LossInfo } from "./api/index";
import { Chart, PALETTE } from "./chart";
import { apis, describeError } from "./client";
import { numericColumn, parseCsv, parseNumberList, type Table, toCsv } from "./csv";
import { fmt, numbers } from "./numbers";
import { byId, download, element, readFile, status } from "./page";

const TABLE_ROWS = 100;

interface Result {
  prediction: number[];
  target: number[];
  reduction: string;
  results: EvaluateResponse[];
}

export class EvaluatePanel {
  private table: Table | null = null;
  private last: Result | null = null;
  private seq = 0; // the latest run: an earlier run's answer that arrives later is dropped
  private readonly lossChart = new Chart(byId("eval-chart-loss"), "Per-element loss", "element", "ℓ");
  private readonly gradChart = new Chart(byId("eval-chart-grad"), "Per-element gradient", "element", "∂L/∂f");

  constructor(private readonly catalog: LossInfo[]) {
    byId("eval-kind").addEventListener("change", () => this.renderChoices());
    byId("eval-file").addEventListener("change", () => void this.loadFile());
    byId("eval-form").addEventListener("submit", (e) => {
      e.preventDefault();
      void this.run();
    });
    byId("eval-download").addEventListener("click", () => this.download());
    this.renderChoices();
  }

  private kind(): string {
    return byId<HTMLSelectElement>("eval-kind").value;
  }

  private renderChoices(): void {
    const kind = this.kind();
    const defaults = kind === "regression" ? ["l1", "l2", "smooth_l1", "huber"] : ["hinge", "log_loss"];
    const items = this.catalog
      .filter((s) => s.kind === kind && s.target !== "probability")
      .map((s) => {
        const input = element("input", { type: "checkbox", name: "eval-loss", value: s.name, id: `eval-pick-${s.name}` });
        input.checked = defaults.includes(s.name);
        return element("label", { for: `eval-pick-${s.name}`, class: "check" }, input, ` ${s.title}`);
      });
    byId("eval-losses").replaceChildren(element("legend", {}, "Losses to compare"), ...items);
    byId("eval-target-help").textContent =
      kind === "regression" ? "Targets: real numbers." : "Targets: labels −1 / +1 (or 0 / 1); predictions are scores.";
  }

  private async loadFile(): Promise<void> {
    try {
      this.table = parseCsv(await readFile(byId<HTMLInputElement>("eval-file")));
      const options = (selected: string): HTMLOptionElement[] =>
        (this.table as Table).header.map((h) => {
          const o = element("option", { value: h }, h);
          o.selected = h === selected;
          return o;
        });
      const [p, t] = [this.table.header[0], this.table.header[1] ?? this.table.header[0]];
      byId("eval-pred-col").replaceChildren(...options(p));
      byId("eval-target-col").replaceChildren(...options(t));
      byId("eval-columns").hidden = false;
      status(`Read ${this.table.rows.length} rows with columns ${this.table.header.join(", ")}.`);
    } catch (e) {
      status(`CSV: ${await describeError(e)}`, true);
    }
  }

  private inputs(): { prediction: number[]; target: number[] } {
    if (this.table && !byId("eval-columns").hidden) {
      return {
        prediction: numericColumn(this.table, byId<HTMLSelectElement>("eval-pred-col").value),
        target: numericColumn(this.table, byId<HTMLSelectElement>("eval-target-col").value),
      };
    }
    return {
      prediction: parseNumberList(byId<HTMLTextAreaElement>("eval-pred").value, "predictions"),
      target: parseNumberList(byId<HTMLTextAreaElement>("eval-target").value, "targets"),
    };
  }

  private async run(): Promise<void> {
    const ticket = ++this.seq;
    try {
      const { prediction, target } = this.inputs();
      const names = [...document.querySelectorAll<HTMLInputElement>('input[name="eval-loss"]:checked')].map((i) => i.value);
      if (!names.length) throw new Error("choose at least one loss");
      const reduction = byId<HTMLSelectElement>("eval-reduction").value as CompareRequest["reduction"];
      const request: CompareRequest = { losses: names.map((name) => ({ name }) as Loss), prediction, target, reduction };
      const response = await apis().evaluate.compare({ compareRequest: request });
      if (ticket !== this.seq) return;
      this.last = { prediction, target, reduction: reduction ?? "mean", results: response.results };
      this.render(this.last);
      status(`Evaluated ${names.length} losses on ${prediction.length} elements.`);
    } catch (e) {
      if (ticket === this.seq) status(`Evaluate: ${await describeError(e)}`, true);
    }
  }

  private render(r: Result): void {
    const name = (e: EvaluateResponse): string => String((e.loss as { name: string }).name);
    const summary = byId("eval-summary");
    summary.replaceChildren(
      element("caption", {}, `Reduced loss (${r.reduction}) from POST /v1/compare`),
      element("thead", {}, element("tr", {}, element("th", { scope: "col" }, "loss"), element("th", { scope: "col" }, r.reduction))),
      element(
        "tbody",
        {},
        ...r.results.map((e) =>
          element("tr", { "data-loss": name(e) }, element("th", { scope: "row" }, name(e)), element("td", { "data-value": String(e.value) }, fmt(e.value as number))),
        ),
      ),
    );
    // elements are discrete: dots (lines only when there are too many to tell apart)
    const index = r.prediction.map((_, i) => i);
    const asDots = index.length <= 200;
    for (const [chart, key] of [[this.lossChart, "elementwise"], [this.gradChart, "gradient"]] as const) {
      const series = r.results.map((e, k) => ({ id: name(e), label: name(e), x: index, y: numbers(e[key]), color: PALETTE[k % PALETTE.length] }));
      if (asDots) chart.set([], series.map((s, k) => ({ ...s, shape: k % 2 ? "circle" : "square" }) as const));
      else chart.set(series);
    }
    this.renderTable(r);
    byId("eval-download").hidden = false;
  }

  private renderTable(r: Result): void {
    const head = ["i", "prediction", "target", ...r.results.flatMap((e) => [`ℓ ${(e.loss as { name: string }).name}`, "∂L/∂f"])];
    const columns = r.results.map((e) => [numbers(e.elementwise), numbers(e.gradient)]).flat();
    const shown = Math.min(TABLE_ROWS, r.prediction.length);
    const body = [];
    for (let i = 0; i < shown; i++) {
      body.push(
        element("tr", {}, element("th", { scope: "row" }, String(i)), element("td", {}, fmt(r.prediction[i])), element("td", {}, fmt(r.target[i])), ...columns.map((c) => element("td", {}, fmt(c[i])))),
      );
    }
    byId("eval-table").replaceChildren(
      element("caption", {}, shown < r.prediction.length ? `First ${shown} of ${r.prediction.length} elements (the download has all)` : "Every element"),
      element("thead", {}, element("tr", {}, ...head.map((h) => element("th", { scope: "col" }, h)))),
      element("tbody", {}, ...body),
    );
  }

  private download(): void {
    const r = this.last;
    if (!r) return;
    const header = ["prediction", "target"];
    const columns: Array<ArrayLike<number>> = [r.prediction, r.target];
    for (const e of r.results) {
      const n = (e.loss as { name: string }).name;
      header.push(`loss_${n}`, `gradient_${n}`);
      columns.push(numbers(e.elementwise), numbers(e.gradient));
    }
    download("losscore-evaluate.csv", toCsv(header, columns), "text/csv");
  }
}
