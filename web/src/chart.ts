// A small SVG chart: lines (curves, fitted lines, boundaries) and dots (data points), axes
// with round ticks, a legend, and a cursor that follows the pointer or the arrow keys and
// reads out every line's value at the nearest x. What it drew is kept as data (`plotted`),
// so tests check the plotted numbers, not pixels.
import { fmt } from "./numbers";

const NS = "http://www.w3.org/2000/svg";
const W = 640;
const H = 340;
const M = { left: 58, right: 14, top: 14, bottom: 44 };

export interface Line {
  id: string;
  label: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  color: string;
  dash?: string;
  /** false: drawn but not read out by the cursor (boundaries, margins). */
  cursor?: boolean;
}

export interface Dots {
  id: string;
  label: string;
  x: number[];
  y: number[];
  color: string;
  shape: "circle" | "square";
}

export interface Box {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

export interface Plotted {
  kind: "line" | "dots";
  label: string;
  x: number[];
  y: number[];
}

function el<K extends keyof SVGElementTagNameMap>(
  name: K,
  attrs: Record<string, string | number>,
  parent?: Element,
): SVGElementTagNameMap[K] {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  parent?.appendChild(e);
  return e;
}

/** About *count* round tick values covering [lo, hi]. */
export function ticks(lo: number, hi: number, count = 6): number[] {
  const span = hi - lo;
  if (!(span > 0) || !Number.isFinite(span)) return [lo];
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => span / s <= count) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
    out.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  }
  return out;
}

function extent(values: Iterable<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (Number.isFinite(v)) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (lo > hi) return [-1, 1];
  if (lo === hi) return [lo - 1, hi + 1];
  const pad = (hi - lo) * 0.05;
  return [lo - pad, hi + pad];
}

function* finiteOf(arrays: Array<ArrayLike<number>>): Iterable<number> {
  for (const a of arrays) for (let i = 0; i < a.length; i++) yield a[i];
}

export class Chart {
  readonly svg: SVGSVGElement;
  readonly readout: HTMLParagraphElement;
  private readonly legend: HTMLUListElement;
  private lines: Line[] = [];
  private dots: Dots[] = [];
  private box: Box = { x0: -1, x1: 1, y0: -1, y1: 1 };
  private cursor = -1;
  private cursorLayer: SVGGElement | null = null;

  constructor(
    host: HTMLElement,
    private readonly title: string,
    private xLabel: string,
    private yLabel: string,
  ) {
    const figure = document.createElement("figure");
    figure.className = "chart";
    const caption = document.createElement("figcaption");
    caption.textContent = title;
    this.svg = el("svg", {
      viewBox: `0 0 ${W} ${H}`,
      role: "img",
      tabindex: 0,
      "aria-label": `${title}. Use the left and right arrow keys to read values.`,
    });
    this.legend = document.createElement("ul");
    this.legend.className = "legend";
    this.readout = document.createElement("p");
    this.readout.className = "readout";
    this.readout.setAttribute("aria-live", "polite");
    figure.append(caption, this.svg, this.legend, this.readout);
    host.replaceChildren(figure);
    this.svg.addEventListener("pointermove", (e) => this.onPointer(e));
    this.svg.addEventListener("pointerleave", () => this.setCursor(-1));
    this.svg.addEventListener("keydown", (e) => this.onKey(e));
  }

  /** Replace what is drawn; *box* fixes any of the axis ranges (else from the data). */
  set(lines: Line[], dots: Dots[] = [], box: Partial<Box> = {}): void {
    this.lines = lines;
    this.dots = dots;
    const xs = extent(finiteOf([...lines.map((l) => l.x), ...dots.map((d) => d.x)]));
    const ys = extent(finiteOf([...lines.map((l) => l.y), ...dots.map((d) => d.y)]));
    this.box = { x0: box.x0 ?? xs[0], x1: box.x1 ?? xs[1], y0: box.y0 ?? ys[0], y1: box.y1 ?? ys[1] };
    this.render();
  }

  /** Name the axes (drawn at the next `set`). */
  labels(x: string, y: string): void {
    this.xLabel = x;
    this.yLabel = y;
  }

  /** What is drawn, in data coordinates, by id. */
  plotted(): Record<string, Plotted> {
    const out: Record<string, Plotted> = {};
    for (const l of this.lines) out[l.id] = { kind: "line", label: l.label, x: Array.from(l.x), y: Array.from(l.y) };
    for (const d of this.dots) out[d.id] = { kind: "dots", label: d.label, x: d.x, y: d.y };
    return out;
  }

  get bounds(): Box {
    return { ...this.box };
  }

  private px(x: number): number {
    const { x0, x1 } = this.box;
    return M.left + ((x - x0) / (x1 - x0)) * (W - M.left - M.right);
  }

  private py(y: number): number {
    const { y0, y1 } = this.box;
    return M.top + ((y1 - y) / (y1 - y0)) * (H - M.top - M.bottom);
  }

  private render(): void {
    const svg = this.svg;
    svg.replaceChildren();
    const clipId = `clip-${Math.random().toString(36).slice(2)}`;
    const clip = el("clipPath", { id: clipId }, el("defs", {}, svg));
    el("rect", { x: M.left, y: M.top, width: W - M.left - M.right, height: H - M.top - M.bottom }, clip);
    this.axes();
    const plot = el("g", { "clip-path": `url(#${clipId})` }, svg);
    for (const l of this.lines) {
      el("path", { d: this.path(l), class: "series", stroke: l.color, "stroke-dasharray": l.dash ?? "", "data-id": l.id }, plot);
    }
    for (const d of this.dots) {
      const g = el("g", { fill: d.color, "data-id": d.id }, plot);
      for (let i = 0; i < d.x.length; i++) {
        const [cx, cy] = [this.px(d.x[i]), this.py(d.y[i])];
        if (d.shape === "square") el("rect", { x: cx - 3.5, y: cy - 3.5, width: 7, height: 7 }, g);
        else el("circle", { cx, cy, r: 3.8 }, g);
      }
    }
    this.cursorLayer = el("g", { class: "cursor" }, svg);
    this.legend.replaceChildren(
      ...[...this.lines, ...this.dots].map((s) => {
        const li = document.createElement("li");
        const swatch = document.createElement("span");
        swatch.className = "swatch";
        swatch.style.background = s.color;
        li.append(swatch, s.label);
        return li;
      }),
    );
    this.setCursor(this.cursor);
  }

  private axes(): void {
    const g = el("g", { class: "axes" }, this.svg);
    const { x0, x1, y0, y1 } = this.box;
    const bottom = H - M.bottom;
    for (const t of ticks(x0, x1)) {
      const x = this.px(t);
      el("line", { x1: x, x2: x, y1: M.top, y2: bottom, class: "grid" }, g);
      el("text", { x, y: bottom + 16, "text-anchor": "middle" }, g).textContent = fmt(t);
    }
    for (const t of ticks(y0, y1, 5)) {
      const y = this.py(t);
      el("line", { x1: M.left, x2: W - M.right, y1: y, y2: y, class: "grid" }, g);
      el("text", { x: M.left - 6, y: y + 4, "text-anchor": "end" }, g).textContent = fmt(t);
    }
    if (y0 < 0 && y1 > 0) el("line", { x1: M.left, x2: W - M.right, y1: this.py(0), y2: this.py(0), class: "zero" }, g);
    if (x0 < 0 && x1 > 0) el("line", { x1: this.px(0), x2: this.px(0), y1: M.top, y2: bottom, class: "zero" }, g);
    el("rect", { x: M.left, y: M.top, width: W - M.left - M.right, height: bottom - M.top, class: "frame" }, g);
    el("text", { x: (M.left + W - M.right) / 2, y: H - 8, "text-anchor": "middle", class: "label" }, g).textContent =
      this.xLabel;
    const yl = el("text", { x: 14, y: (M.top + bottom) / 2, "text-anchor": "middle", class: "label" }, g);
    yl.setAttribute("transform", `rotate(-90 14 ${(M.top + bottom) / 2})`);
    yl.textContent = this.yLabel;
  }

  private path(l: Line): string {
    // non-finite values break the line; values far outside the box are clamped so that a
    // steep curve still leaves the frame at the right place
    const parts: string[] = [];
    let pen = false;
    const span = this.box.y1 - this.box.y0;
    for (let i = 0; i < l.x.length; i++) {
      const x = l.x[i];
      const y = l.y[i];
      if (!Number.isFinite(x) || !Number.isFinite(y)) {
        pen = false;
        continue;
      }
      const yc = Math.min(this.box.y1 + span, Math.max(this.box.y0 - span, y));
      parts.push(`${pen ? "L" : "M"}${this.px(x).toFixed(2)} ${this.py(yc).toFixed(2)}`);
      pen = true;
    }
    return parts.join("");
  }

  private cursorLines(): Line[] {
    return this.lines.filter((l) => l.cursor !== false && l.x.length > 0);
  }

  private onPointer(e: PointerEvent): void {
    const first = this.cursorLines()[0];
    if (!first) return;
    const rect = this.svg.getBoundingClientRect();
    const x = this.box.x0 + (((e.clientX - rect.left) * (W / rect.width) - M.left) / (W - M.left - M.right)) * (this.box.x1 - this.box.x0);
    this.setCursor(nearest(first.x, x));
  }

  private onKey(e: KeyboardEvent): void {
    const first = this.cursorLines()[0];
    if (!first || !["ArrowLeft", "ArrowRight", "Home", "End"].includes(e.key)) return;
    e.preventDefault();
    const n = first.x.length;
    const step = e.shiftKey ? 10 : 1;
    const at = this.cursor < 0 ? Math.floor(n / 2) : this.cursor;
    const next = { ArrowLeft: at - step, ArrowRight: at + step, Home: 0, End: n - 1 }[e.key] ?? at;
    this.setCursor(Math.max(0, Math.min(n - 1, next)));
  }

  private setCursor(index: number): void {
    const lines = this.cursorLines();
    const layer = this.cursorLayer;
    if (!layer) return;
    layer.replaceChildren();
    if (index < 0 || !lines.length || index >= lines[0].x.length) {
      this.cursor = -1;
      this.readout.textContent = "";
      return;
    }
    this.cursor = index;
    const x = lines[0].x[index];
    el("line", { x1: this.px(x), x2: this.px(x), y1: M.top, y2: H - M.bottom }, layer);
    const values = lines.map((l) => {
      const i = l.x === lines[0].x ? index : nearest(l.x, x);
      const y = l.y[i];
      if (Number.isFinite(y)) el("circle", { cx: this.px(l.x[i]), cy: this.py(y), r: 4, stroke: l.color }, layer);
      return `${l.label} ${fmt(y)}`;
    });
    this.readout.textContent = `${this.xLabel} = ${fmt(x)}: ${values.join(" · ")}`;
  }
}

/** Index of the value of the increasing array *xs* nearest to *x*. */
export function nearest(xs: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = xs.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] < x) lo = mid;
    else hi = mid;
  }
  return Math.abs(xs[lo] - x) <= Math.abs(xs[hi] - x) ? lo : hi;
}

/** Colours with at least 4.5:1 contrast on white, told apart by hue. */
export const PALETTE = ["#1f4e9e", "#b3261e", "#1b6e34", "#8a4b00", "#6b2fa3", "#00656e", "#a3195b", "#4a4a4a"];
