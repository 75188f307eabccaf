import { patience, reportingWait } from "../../src/deploy/patience.ts";
import { failure, usageError } from "../../src/errors.ts";

/**
 * Cloudflare's REST API, for what wrangler does not do or say: reading back what is deployed,
 * queues, consumer settings. Auth the standard way: CLOUDFLARE_API_TOKEN, CLOUDFLARE_ACCOUNT_ID
 * (or cloudflare.accountId in the config), CLOUDFLARE_API_BASE_URL for a local stand-in. A
 * missing one fails before any change, also in CI where wrangler would ask to log in.
 */
export interface CloudflareApi {
  accountId: string;
  baseUrl: string;
  token: string;
  calls: { reads: number; writes: number };
  get<T>(path: string): Promise<T>;
  /** Every item of a list, page after page, as its `result_info` says (a list without one is one page). */
  getAll<T>(path: string): Promise<T[]>;
  send<T>(method: "POST" | "PUT" | "PATCH" | "DELETE", path: string, body?: unknown): Promise<T>;
}

/**
 * Cloudflare's envelope. `result_info` pages a list (page, per_page, count, total_count,
 * total_pages), or carries a `cursor` to the next page on the endpoints that page by cursor
 * (developers.cloudflare.com/fundamentals/api/how-to/make-api-calls/#pagination).
 */
interface Envelope<T> {
  success?: boolean;
  result?: T;
  errors?: { code: number; message: string }[];
  result_info?: { page?: number; per_page?: number; count?: number; total_count?: number; total_pages?: number; cursor?: string };
}

/** What twelve asks for a page; the API may answer with fewer, and result_info says so. */
const PER_PAGE = 100;
/** A guard against an API that keeps answering "more". */
const MAX_PAGES = 1000;

export function cloudflareApi(env: NodeJS.ProcessEnv, configAccountId: string | undefined, waiting?: (line: string) => void): CloudflareApi {
  const token = env.CLOUDFLARE_API_TOKEN;
  if (!token) throw usageError("CLOUDFLARE_API_TOKEN is not set", "Create a token with Workers Scripts and Queues edit permissions, then export CLOUDFLARE_API_TOKEN=... (in CI: a repository secret).");
  const accountId = env.CLOUDFLARE_ACCOUNT_ID || configAccountId;
  if (!accountId) throw usageError("no Cloudflare account: set CLOUDFLARE_ACCOUNT_ID, or cloudflare.accountId in twelve.config.ts", "The account id is on the dashboard's Workers overview page.");
  const baseUrl = (env.CLOUDFLARE_API_BASE_URL || "https://api.cloudflare.com/client/v4").replace(/\/+$/, "");
  const calls = { reads: 0, writes: 0 };
  const { callMs, noticeMs } = patience(env);

  /**
   * A busy or failing API (429, 5xx), or one that does not answer in time or cannot be
   * reached, is asked again, twice, after a short wait. Every step of a deploy accepts what an
   * earlier attempt already made, so asking again is safe.
   */
  async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
    return (await requestEnvelope<T>(method, path, body)).result as T;
  }

  async function requestEnvelope<T>(method: string, path: string, body?: unknown): Promise<Envelope<T>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await once<T>(method, path, body);
      } catch (error) {
        const { status = 0, retryable = false } = error as { status?: number; retryable?: boolean };
        if (attempt === 3 || !(retryable || status === 429 || status >= 500)) throw error;
        waiting?.(`Cloudflare's API: ${method} ${path} failed (${(error as Error).message.split(": ").at(-1)}); trying again (attempt ${attempt + 1} of 3)`);
        await new Promise((resolve) => setTimeout(resolve, 250 * 3 ** (attempt - 1)));
      }
    }
  }

  async function once<T>(method: string, path: string, body?: unknown): Promise<Envelope<T>> {
    if (method === "GET") calls.reads++;
    else calls.writes++;
    const url = `${baseUrl}/accounts/${accountId}${path}`;
    // One bound for the whole exchange, the body included: an API that accepts the connection
    // and never answers must not hold a deploy for ever.
    const signal = AbortSignal.timeout(callMs);
    const exchange = async () => {
      const response = await fetch(url, {
        method,
        signal,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { response, envelope: (await response.json().catch((error: unknown) => (signal.aborted ? Promise.reject(error) : {}))) as Envelope<T> };
    };
    let response: Response;
    let envelope: Envelope<T>;
    try {
      ({ response, envelope } = await reportingWait(`Cloudflare's API: ${method} ${path}`, exchange, noticeMs, waiting));
    } catch (error) {
      const why = signal.aborted ? `no answer to ${method} ${path} within ${callMs / 1000} s` : (error as Error).message;
      throw Object.assign(
        failure(`could not reach Cloudflare's API at ${baseUrl}: ${why}`, "Check the network, or CLOUDFLARE_API_BASE_URL (TWELVE_CALL_TIMEOUT sets the wait, in seconds).", error),
        { retryable: true },
      );
    }
    if (!response.ok || envelope.success === false) {
      const errors = (envelope.errors ?? []).map((e) => `${e.code}: ${e.message}`).join("; ") || `HTTP ${response.status}`;
      const hint = response.status === 401 || response.status === 403 ? "Check CLOUDFLARE_API_TOKEN and its permissions." : "Fix the cause and run the command again.";
      throw Object.assign(failure(`Cloudflare API ${method} ${path} failed: ${errors}`, hint), { status: response.status, codes: (envelope.errors ?? []).map((e) => e.code) });
    }
    return envelope;
  }

  async function getAll<T>(path: string): Promise<T[]> {
    const all: T[] = [];
    let cursor: string | undefined;
    for (let page = 1; page <= MAX_PAGES; page++) {
      const at = cursor ? `cursor=${encodeURIComponent(cursor)}` : `page=${page}`;
      const { result, result_info: info } = await requestEnvelope<T[]>("GET", `${path}${path.includes("?") ? "&" : "?"}${at}&per_page=${PER_PAGE}`);
      const items = result ?? [];
      all.push(...items);
      if (!info || items.length === 0) return all;
      if (info.cursor) {
        cursor = info.cursor;
        continue;
      }
      const perPage = info.per_page ?? items.length;
      const pages = info.total_pages ?? (info.total_count !== undefined && perPage ? Math.ceil(info.total_count / perPage) : undefined);
      if (pages === undefined || page >= pages) return all;
    }
    throw failure(`Cloudflare API GET ${path} did not end after ${MAX_PAGES} pages`, "Run the command again; if it persists, report it.");
  }

  return {
    accountId,
    baseUrl,
    token,
    calls,
    get: (path) => request("GET", path),
    getAll,
    send: (method, path, body) => request(method, path, body),
  };
}
