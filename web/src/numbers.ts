// Arrays as the API returns them (ArrayOut): lists of numbers, with "Infinity" / "-Infinity"
// strings where a value overflows, or a tensor object; turned into plain numbers (NaN where
// a value is missing).
import type { ArrayOut } from "./api/index";

function one(v: unknown): number {
  if (typeof v === "number") return v;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  return NaN;
}

function decodeB64(b64: string, dtype: string): number[] {
  const raw = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const view = dtype === "float32" ? new Float32Array(raw.buffer) : new Float64Array(raw.buffer);
  return Array.from(view);
}

/** A flat array of numbers from any ArrayOut (nested lists are flattened row by row). */
export function numbers(a: ArrayOut | null | undefined): number[] {
  if (a === null || a === undefined) return [];
  if (Array.isArray(a)) return (a as unknown[]).flat(3).map(one);
  if (typeof a === "object") {
    const t = a as { data?: unknown[] | null; b64?: string | null; dtype: string };
    if (t.data) return t.data.flat(3).map(one);
    if (t.b64) return decodeB64(t.b64, t.dtype);
    return [];
  }
  return [one(a)];
}

/** Rows of a 2-D ArrayOut-like list (coefficients). */
export function rows(a: unknown): number[][] {
  return Array.isArray(a) ? (a as unknown[]).map((r) => (Array.isArray(r) ? r.map(one) : [one(r)])) : [];
}

/** A number for people: 4 significant digits, exponent when small or large. */
export function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  if (!Number.isFinite(v)) return v > 0 ? "∞" : "−∞";
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a >= 1e-3 && a < 1e5 ? String(Number(v.toPrecision(4))) : v.toExponential(3);
}
