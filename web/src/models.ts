// The Models panel: stored models from GET /v1/models (paged), each one loaded back
// (GET /v1/models/{id}), downloaded as its JSON, or deleted (DELETE, confirmed in place).
import type { Model, ModelSummary } from "./api/index";
import { apis, describeError } from "./client";
import { fmt, rows } from "./numbers";
import { byId, download, element, status } from "./page";
import type { TrainPanel } from "./train";

const PAGE = 20;

const name = (o: unknown): string => String((o as { name: string }).name);

export class ModelsPanel {
  private cursor: string | null = null;
  private seq = 0; // the latest listing: an earlier one's answer that arrives later is dropped

  constructor(private readonly train: TrainPanel) {
    byId("models-refresh").addEventListener("click", () => void this.refresh());
    byId("models-more").addEventListener("click", () => void this.load(true));
  }

  async refresh(): Promise<void> {
    this.cursor = null;
    await this.load(false);
  }

  private async load(more: boolean): Promise<void> {
    if (more && !this.cursor) return; // a refresh started over: no next page yet
    const ticket = ++this.seq;
    try {
      const page = await apis().models.listModels({ limit: PAGE, cursor: more ? (this.cursor ?? undefined) : undefined });
      if (ticket !== this.seq) return;
      const body = byId("models-body");
      const rowsOut = page.models.map((m) => this.row(m));
      if (more) body.append(...rowsOut);
      else body.replaceChildren(...rowsOut);
      this.cursor = page.nextCursor;
      byId("models-more").hidden = !page.nextCursor;
      byId("models-empty").hidden = body.children.length > 0;
    } catch (e) {
      if (ticket === this.seq) status(`Models: ${await describeError(e)}`, true);
    }
  }

  private row(m: ModelSummary): HTMLTableRowElement {
    const id = m.modelId;
    const button = (label: string, action: () => Promise<void>, cls = ""): HTMLButtonElement => {
      const b = element("button", { type: "button", class: cls, "aria-label": `${label} model ${id.slice(0, 8)}` }, label);
      b.addEventListener("click", () => void action());
      return b;
    };
    const remove = button("Delete", async () => {
      if (remove.dataset.armed !== "1") {
        remove.dataset.armed = "1";
        remove.textContent = "Confirm delete";
        remove.setAttribute("aria-label", `Confirm: delete model ${id.slice(0, 8)}`);
        return;
      }
      await this.remove(id, tr);
    }, "danger");
    const tr = element(
      "tr",
      { "data-model-id": id },
      element("td", {}, element("code", { title: id }, id.slice(0, 8))),
      element("td", {}, m.task),
      element("td", {}, name(m.loss)),
      element("td", {}, `${name(m.penalty)}${"alpha" in (m.penalty as object) ? ` α=${fmt((m.penalty as { alpha: number }).alpha)}` : ""}`),
      element("td", {}, m.createdAt.toISOString().replace("T", " ").slice(0, 19)),
      element("td", { class: "actions" }, button("Load", () => this.open(id)), button("Download JSON", () => this.download(id)), remove),
    );
    return tr;
  }

  private async open(id: string): Promise<void> {
    try {
      const model = await apis().models.getModel({ modelId: id });
      this.details(model);
      this.train.show(model);
      status(`Loaded model ${id}.`);
    } catch (e) {
      status(`Load: ${await describeError(e)}`, true);
    }
  }

  private details(m: Model): void {
    const coef = rows(m.coef);
    const classes = m.classes ? (m.classes as unknown[]).map(String) : [];
    const head = ["output", ...coef[0].map((_, j) => `w${j + 1}`), "intercept"];
    const outputs = coef.map((r, k) => element("tr", {}, element("th", { scope: "row" }, coef.length > 1 ? classes[k] ?? String(k) : "f"), ...r.map((v) => element("td", {}, fmt(v))), element("td", {}, fmt(m.intercept[k] ?? 0))));
    byId("model-details").replaceChildren(
      element("h3", {}, `Model ${m.modelId}`),
      element(
        "p",
        {},
        `${m.task}, loss ${name(m.loss)}, penalty ${name(m.penalty)}; ${m.converged ? "converged" : "not converged"} (${m.stopReason}) in ${m.nIter} iterations; objective ${fmt(m.objective as number)}; optimality ${fmt(m.optimality as number)}.`,
      ),
      element(
        "div",
        { class: "table-wrap", tabindex: 0, role: "region", "aria-label": "Coefficients" },
        element("table", {}, element("caption", {}, "Coefficients"), element("thead", {}, element("tr", {}, ...head.map((h) => element("th", { scope: "col" }, h)))), element("tbody", {}, ...outputs)),
      ),
    );
  }

  private async download(id: string): Promise<void> {
    try {
      const response = await apis().models.getModelRaw({ modelId: id });
      download(`losscore-model-${id}.json`, await response.raw.text(), "application/json");
    } catch (e) {
      status(`Download: ${await describeError(e)}`, true);
    }
  }

  private async remove(id: string, tr: HTMLTableRowElement): Promise<void> {
    try {
      await apis().models.deleteModel({ modelId: id });
      tr.remove();
      byId("models-empty").hidden = byId("models-body").children.length > 0;
      status(`Deleted model ${id}.`);
    } catch (e) {
      status(`Delete: ${await describeError(e)}`, true);
    }
  }
}
