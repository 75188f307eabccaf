import path from "node:path";
import type { DeadLetter, DeadLetterProgress, DeadLetters, DeadLetterSummary } from "../adapter.ts";
import type { ClockProcess, Formation, WorkerProcess } from "../formation/types.ts";
import type { Broker } from "./broker.ts";
import type { ClockHistory, RecordedRun } from "./clock-history.ts";
import type { DeadLetterEntry } from "./journal.ts";
import { callDevServer, type DevServerInfo } from "./server.ts";

/** How many dead letters one page holds, in memory and over twelve dev's control API. */
export const PAGE = 500;

export interface DevDeadLetterSource {
  formation: () => Formation;
  broker: Broker;
  /** A clock's run history (its failed runs are its dead letters). */
  history(clock: string): ClockHistory;
}

const fromEntry = (d: DeadLetterEntry): DeadLetter => ({ id: d.id, sentAt: d.sentAt || null, diedAt: d.diedAt || null, attempts: d.attempts, body: d.body, error: d.error ?? (d.reason || null) });

const fromRun = (r: RecordedRun): DeadLetter => ({
  id: r.id,
  sentAt: r.scheduledTime,
  diedAt: r.startedAt === null ? r.scheduledTime : r.startedAt + (r.durationMs ?? 0),
  attempts: 1,
  body: { scheduledTime: new Date(r.scheduledTime).toISOString() },
  error: r.detail,
});

/**
 * twelve dev's dead letters: a worker's are the broker's dead-letter store, a clock's are its
 * failed runs. Served over twelve dev's control API (server.ts) while it runs, and used directly
 * (under the dev lock) when it does not.
 */
export function devDeadLetters(source: DevDeadLetterSource): DeadLetters & { page(process: string, offset: number, limit: number): { total: number; items: DeadLetter[] } } {
  const { broker } = source;
  const relative = (file: string) => path.relative(source.formation().root, file);
  const page = (name: string, offset: number, limit: number) => {
    const process = source.formation().processes.find((p) => p.name === name);
    if (process?.type === "clock") {
      const failed = source.history(name).failures();
      return { total: failed.length, items: failed.slice(offset, offset + limit).map(fromRun) };
    }
    return { total: broker.stats(name).deadLetters, items: broker.deadLetters(name, offset, limit).map(fromEntry) };
  };
  return {
    page,
    async summary() {
      return source.formation().processes.flatMap((p): DeadLetterSummary[] => {
        if (p.type === "worker") {
          const dead = broker.deadLetters(p.name);
          return [{ process: p.name, type: "worker", count: dead.length, oldestSentAt: oldest(dead.map((d) => d.sentAt)), where: `.twelve/dev/broker/dead-letter/${p.name}.jsonl` }];
        }
        if (p.type === "clock") {
          const history = source.history(p.name);
          const failed = history.failures();
          return [{ process: p.name, type: "clock", count: failed.length, oldestSentAt: oldest(failed.map((r) => r.scheduledTime)), where: `failed runs in ${relative(history.file)}` }];
        }
        return [];
      });
    },
    async *list(process, progress) {
      for (let offset = 0; ; offset += PAGE) {
        const { total, items } = page(process.name, offset, PAGE);
        yield* items;
        progress(Math.min(total, offset + items.length), total);
        if (items.length < PAGE) return;
      }
    },
    async redrive(process, ids, progress) {
      const { redriven, missing } = broker.redrive(process.name, ids);
      progress(redriven.length, redriven.length);
      return { redriven: redriven.length, missing };
    },
    async purge(process, ids, progress) {
      const result = process.type === "clock" ? source.history(process.name).purge(ids) : broker.purge(process.name, ids);
      progress(result.purged, result.purged);
      return result;
    },
  };
}

function oldest(times: number[]): number | null {
  let min: number | null = null;
  for (const t of times) if (t && (min === null || t < min)) min = t;
  return min;
}

/** The same, over a running twelve dev's control API: what `twelve dlq` uses while it runs. */
export function remoteDeadLetters(info: DevServerInfo): DeadLetters {
  const call = <T>(method: string, route: string, body?: unknown) => callDevServer<T>(info, method, route, body, "");
  const named = (p: WorkerProcess | ClockProcess) => encodeURIComponent(p.name);
  return {
    summary: () => call<DeadLetterSummary[]>("GET", "/_twelve/dlq"),
    async *list(process, progress: DeadLetterProgress) {
      for (let offset = 0; ; offset += PAGE) {
        const { total, items } = await call<{ total: number; items: DeadLetter[] }>("GET", `/_twelve/dlq/${named(process)}?offset=${offset}&limit=${PAGE}`);
        yield* items;
        progress(Math.min(total, offset + items.length), total);
        if (items.length < PAGE) return;
      }
    },
    async redrive(process, ids, progress) {
      const result = await call<{ redriven: number; missing: string[] }>("POST", `/_twelve/dlq/${named(process)}/redrive`, { ids: ids ?? null });
      progress(result.redriven, result.redriven);
      return result;
    },
    async purge(process, ids, progress) {
      const result = await call<{ purged: number; missing: string[] }>("POST", `/_twelve/dlq/${named(process)}/purge`, { ids: ids ?? null });
      progress(result.purged, result.purged);
      return result;
    },
  };
}
