// The playground's start: the API key field, the catalog (GET /v1/losses), the four panels.
// Tests and curious users find the charts and timings at window.losscorePlayground.
import { apiKey, apis, describeError, setApiKey } from "./client";
import type { Chart } from "./chart";
import { EvaluatePanel } from "./evaluate";
import { LossesPanel } from "./losses";
import { ModelsPanel } from "./models";
import { byId, status, timings } from "./page";
import { TrainPanel } from "./train";

declare global {
  interface Window {
    losscorePlayground: { ready: boolean; charts: Record<string, Chart>; timings: typeof timings; train?: TrainPanel };
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  window.losscorePlayground = { ready: false, charts: {}, timings };
  const key = byId<HTMLInputElement>("api-key");
  key.value = apiKey();
  key.addEventListener("change", () => setApiKey(key.value.trim()));

  let catalog;
  try {
    catalog = (await apis().losses.listLosses()).losses;
  } catch (e) {
    status(`Could not read the loss catalog: ${await describeError(e)}`, true);
    return;
  }
  const losses = new LossesPanel(catalog);
  new EvaluatePanel(catalog);
  const train = new TrainPanel(catalog);
  const models = new ModelsPanel(train);
  train.onStored = () => void models.refresh();
  window.losscorePlayground.charts = {
    ...losses.chartMap,
    objective: train.objective,
    data: train.scatter,
  };
  window.losscorePlayground.train = train;
  await losses.start();
  timings.firstRender = performance.now() - started;
  performance.mark("first-render");
  await train.start();
  await models.refresh();
  window.losscorePlayground.ready = true;
}

void main();
