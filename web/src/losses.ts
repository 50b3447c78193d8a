// The Losses panel: pick losses from the catalog, move their parameters, and see ℓ, ℓ′ and ℓ″
// from GET /v1/losses/{name}/curve, redrawn on every slider movement (latest answer wins).
import katex from "katex";
import type { LossCurveRequest, LossInfo, ParamInfo } from "./api/index";
import { Chart, PALETTE } from "./chart";
import { apis, describeError } from "./client";
import { numbers } from "./numbers";
import { byId, camelKeys, element, status, timings } from "./page";

export type Axis = "residual" | "margin" | "probability";

export function axisOf(spec: LossInfo): Axis {
  if (spec.target === "real") return "residual";
  return spec.target === "probability" ? "probability" : "margin";
}

const GREEK: Record<string, string> = { beta: "β", delta: "δ", epsilon: "ε", q: "q", threshold: "threshold", label_smoothing: "label smoothing", margin: "margin" };
const DEFAULTS: Record<Axis, string[]> = {
  residual: ["l1", "l2", "smooth_l1"],
  margin: ["hinge", "log_loss", "modified_huber"],
  probability: ["binary_cross_entropy"],
};
const GRID: Record<Axis, [number, number]> = { residual: [-3, 3], margin: [-3, 3], probability: [0.01, 0.99] };

interface Curve {
  x: number[];
  value: number[];
  gradient: number[];
  hessian: number[];
}

/** Slider range of a parameter: its interval, an open end capped at max(5, 4 × default). */
export function sliderRange(p: ParamInfo): { min: number; max: number; step: number } {
  const iv = p.interval;
  const step = iv.high !== null && iv.high <= 1 ? 0.01 : 0.05;
  const low = iv.low ?? 0;
  const min = iv.lowInclusive ? low : low + step;
  const top = iv.high ?? Math.max(5, 4 * p._default);
  const max = iv.high !== null && !iv.highInclusive ? top - step : top;
  return { min, max, step };
}

export function tex(source: string): string {
  return katex.renderToString(source, { output: "mathml", throwOnError: false, displayMode: false });
}

export class LossesPanel {
  private axis: Axis = "residual";
  private readonly selected = new Set<string>(DEFAULTS.residual);
  private readonly params = new Map<string, Record<string, number>>();
  private readonly curves = new Map<string, Curve>();
  private readonly requested = new Map<string, number>();
  private readonly charts: Record<"value" | "gradient" | "hessian", Chart>;
  private seq = 0;

  constructor(private readonly catalog: LossInfo[]) {
    this.charts = {
      value: new Chart(byId("chart-value"), "Loss ℓ(x)", "x", "ℓ"),
      gradient: new Chart(byId("chart-gradient"), "Derivative ℓ′(x)", "x", "ℓ′"),
      hessian: new Chart(byId("chart-hessian"), "Second derivative ℓ″(x)", "x", "ℓ″"),
    };
    for (const s of catalog) this.params.set(s.name, Object.fromEntries(s.parameters.map((p) => [p.name, p._default])));
    document.querySelectorAll<HTMLInputElement>('input[name="axis"]').forEach((r) =>
      r.addEventListener("change", () => r.checked && this.setAxis(r.value as Axis)),
    );
    for (const id of ["grid-start", "grid-stop", "grid-num"]) {
      byId(id).addEventListener("change", () => this.refreshAll());
    }
  }

  get chartMap(): Record<string, Chart> {
    return this.charts;
  }

  async start(): Promise<void> {
    this.renderChoices();
    this.renderCards();
    await this.refreshAll();
  }

  private spec(name: string): LossInfo {
    const s = this.catalog.find((l) => l.name === name);
    if (!s) throw new Error(`unknown loss ${name}`);
    return s;
  }

  private setAxis(axis: Axis): void {
    this.axis = axis;
    this.selected.clear();
    DEFAULTS[axis].forEach((n) => this.selected.add(n));
    const [a, b] = GRID[axis];
    byId<HTMLInputElement>("grid-start").value = String(a);
    byId<HTMLInputElement>("grid-stop").value = String(b);
    this.renderChoices();
    this.renderCards();
    void this.refreshAll();
  }

  private renderChoices(): void {
    const box = byId("loss-choices");
    const legend = element("legend", {}, "Losses to plot");
    const items = this.catalog
      .filter((s) => axisOf(s) === this.axis)
      .map((s) => {
        const input = element("input", { type: "checkbox", name: "loss", value: s.name, id: `pick-${s.name}` });
        input.checked = this.selected.has(s.name);
        input.addEventListener("change", () => {
          if (input.checked) this.selected.add(s.name);
          else this.selected.delete(s.name);
          this.renderCards();
          if (input.checked) void this.refresh(s.name);
          else this.draw();
        });
        return element("label", { for: `pick-${s.name}`, class: "check" }, input, ` ${s.title}`);
      });
    box.replaceChildren(legend, ...items);
  }

  private color(name: string): string {
    const order = this.catalog.map((s) => s.name);
    return PALETTE[order.indexOf(name) % PALETTE.length];
  }

  private renderCards(): void {
    const cards = [...this.selected].map((name) => this.card(this.spec(name)));
    byId("loss-cards").replaceChildren(...cards);
  }

  private card(s: LossInfo): HTMLElement {
    const math = (label: string, src: string): HTMLElement => {
      const dd = element("dd", { class: "math" });
      dd.innerHTML = tex(src); // KaTeX's MathML of the catalog's own formula
      return element("div", {}, element("dt", {}, label), dd);
    };
    const sliders = s.parameters.map((p) => this.slider(s, p));
    const swatch = element("span", { class: "swatch" });
    swatch.style.background = this.color(s.name);
    return element(
      "article",
      { class: "card", "aria-label": s.title, "data-loss": s.name },
      element("h3", {}, swatch, s.title, " ", element("code", {}, s.name)),
      element("dl", {}, math("loss", s.formula), math("first derivative", s.derivative), math("second derivative", s.secondDerivative)),
      element("p", { class: "note" }, s.kinks),
      ...sliders,
    );
  }

  private slider(s: LossInfo, p: ParamInfo): HTMLElement {
    const id = `param-${s.name}-${p.name}`;
    const { min, max, step } = sliderRange(p);
    const value = this.params.get(s.name)?.[p.name] ?? p._default;
    const input = element("input", { type: "range", id, min, max, step, value, "data-loss": s.name, "data-param": p.name });
    const out = element("output", { for: id }, String(value));
    input.addEventListener("input", () => {
      const v = Number(input.value);
      out.textContent = String(v);
      (this.params.get(s.name) as Record<string, number>)[p.name] = v;
      void this.refresh(s.name, performance.now());
    });
    const label = element("label", { for: id }, `${GREEK[p.name] ?? p.name} (${p.name}, ${p.interval.text})`);
    return element("div", { class: "slider", title: p.description }, label, input, out);
  }

  private grid(): { start: number; stop: number; num: number } {
    return {
      start: Number(byId<HTMLInputElement>("grid-start").value),
      stop: Number(byId<HTMLInputElement>("grid-stop").value),
      num: Number(byId<HTMLSelectElement>("grid-num").value),
    };
  }

  private async refreshAll(): Promise<void> {
    await Promise.all([...this.selected].map((n) => this.refresh(n)));
  }

  /** Fetch one loss's curve and redraw; an older answer arriving late is dropped. */
  private async refresh(name: string, since?: number): Promise<void> {
    const ticket = ++this.seq;
    this.requested.set(name, ticket);
    const request = { name, ...this.grid(), ...camelKeys(this.params.get(name) ?? {}) } as LossCurveRequest;
    try {
      const c = await apis().losses.lossCurve(request);
      if (this.requested.get(name) !== ticket) return;
      this.curves.set(name, { x: c.x, value: numbers(c.value), gradient: numbers(c.gradient), hessian: numbers(c.hessian) });
      this.draw();
      if (since !== undefined) timings.slider.push(performance.now() - since);
    } catch (e) {
      status(`Curve of ${name}: ${await describeError(e)}`, true);
    }
  }

  private draw(): void {
    const shown = [...this.selected].filter((n) => this.curves.has(n));
    for (const key of ["value", "gradient", "hessian"] as const) {
      const lines = shown.map((n) => {
        const c = this.curves.get(n) as Curve;
        return { id: n, label: n, x: c.x, y: c[key], color: this.color(n) };
      });
      this.charts[key].set(lines);
    }
  }
}
