// The page's only way to the service: the typescript-fetch client generated from the
// committed openapi/openapi.json (src/api, made by `make web`), against the page's own origin.
import {
  Configuration,
  EvaluateApi,
  LossesApi,
  ModelsApi,
  ResponseError,
  TrainingApi,
} from "./api/index";

const KEY = "losscore.apiKey";

/** The API base: the directory the page is served from (works behind a path prefix). */
export const basePath = new URL(".", window.location.href).href.replace(/\/$/, "");

export function apiKey(): string {
  return window.sessionStorage.getItem(KEY) ?? "";
}

export function setApiKey(key: string): void {
  if (key) window.sessionStorage.setItem(KEY, key);
  else window.sessionStorage.removeItem(KEY);
}

function configuration(): Configuration {
  const key = apiKey();
  return new Configuration({ basePath, apiKey: key ? key : undefined });
}

export interface Apis {
  losses: LossesApi;
  evaluate: EvaluateApi;
  training: TrainingApi;
  models: ModelsApi;
}

/** Fresh API objects, so that a key typed in meanwhile is used. */
export function apis(): Apis {
  const c = configuration();
  return {
    losses: new LossesApi(c),
    evaluate: new EvaluateApi(c),
    training: new TrainingApi(c),
    models: new ModelsApi(c),
  };
}

interface ErrorBody {
  error?: { message?: string; details?: Array<{ field?: string; reason?: string }> };
}

/** A sentence for the user: the service's own error message (it names the field). */
export async function describeError(e: unknown): Promise<string> {
  if (e instanceof ResponseError) {
    const status = e.response.status;
    let message = `${status} ${e.response.statusText}`;
    try {
      const body = (await e.response.json()) as ErrorBody;
      if (body.error?.message) message = body.error.message;
    } catch {
      // not JSON: keep the status line
    }
    if (status === 401) return `${message}. This server needs an API key: enter it under "API key".`;
    if (status === 403) return `${message}. The API key lacks the scope for this action.`;
    return message;
  }
  if (e instanceof DOMException && e.name === "AbortError") return "cancelled";
  return e instanceof Error ? e.message : String(e);
}
