// DOM helpers shared by the panels, the status line, and the timings the tests read.

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`the page has no #${id}`);
  return e as T;
}

type Child = Node | string;

/** document.createElement with attributes and children. */
export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false) continue;
    e.setAttribute(k, v === true ? "" : String(v));
  }
  e.append(...children);
  return e;
}

/** The page's live status line (announced to screen readers). */
export function status(message: string, error = false): void {
  const s = byId("status");
  s.textContent = message;
  s.classList.toggle("error", error);
}

/** Milliseconds from a slider's input event to the redrawn charts and to the first render,
 * and the events of the last training stream in their order of arrival. */
export const timings: { slider: number[]; firstRender: number | null; trainEvents: string[] } = {
  slider: [],
  firstRender: null,
  trainEvents: [],
};

/** Offer *text* as a file download. */
export function download(name: string, text: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = element("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Read a chosen file as text. */
export function readFile(input: HTMLInputElement): Promise<string> {
  const file = input.files?.[0];
  if (!file) return Promise.reject(new Error("no file chosen"));
  return file.text();
}

/** The generated client's property names: label_smoothing → labelSmoothing. */
export function camelKeys(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()), v]));
}
