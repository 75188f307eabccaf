import path from "node:path";
import { adapters } from "../../adapters/index.ts";
import type { DevBrokerApi, DevEngine, DevProcess } from "../../adapters/types.ts";
import { buildFormation, type BuildResult } from "../build/build.ts";
import type { ManifestProcess } from "../build/manifest.ts";
import type { Output } from "../cli/output.ts";
import { loadConfig } from "../config/load.ts";
import { failure, TwelveError } from "../errors.ts";
import { queueName } from "../formation/names.ts";
import type { Formation, Process } from "../formation/types.ts";
import { Broker, type BrokerMessage, type Outcome, type QueueSpec } from "./broker.ts";
import { scheduleClock } from "./clock.ts";
import { devSecrets, processVariables } from "./env.ts";
import { DevLog } from "./output.ts";
import { startDevServer, type DevControl } from "./server.ts";
import { watchFiles } from "./watch.ts";
import { portIsFree } from "./ports.ts";

export interface DevOptions {
  cwd: string;
  config: string | undefined;
  target: string | undefined;
  port: number;
  out: Output;
}

const STAGE = "dev";
/** How long shutdown waits for batches and clock runs in flight. */
const DRAIN_MS = 10_000;

/** One process of the formation and the instance of it now running, if any. */
interface Slot {
  process: Process;
  built: ManifestProcess;
  variables: Record<string, string>;
  port: number | undefined;
  current: DevProcess | undefined;
  /** Resolves with the running instance; a new one after each (re)start. */
  up: Promise<DevProcess>;
  markUp(p: DevProcess): void;
  stopping: boolean;
  restarts: number;
  startedAt: number;
  clock?: { stop(): Promise<void>; next(): number | undefined };
}

/**
 * twelve dev: builds the formation for the target, runs every process on the target's engine,
 * feeds workers from the durable broker, fires clocks on schedule, rebuilds and restarts only
 * what a change touches, and restarts what crashes. `stop()` shuts down cleanly.
 */
export async function startDev(options: DevOptions) {
  const { out } = options;
  let { formation, dependencies } = await loadConfig({ cwd: options.cwd, config: options.config, target: options.target, stage: STAGE });
  const log = new DevLog(out, formation.processes.map((p) => p.name));
  const engine = await adapters[formation.target].dev();
  let build = await buildFormation(formation, { stage: STAGE });
  const ports = await assignPorts(formation, options.port);
  const broker = await Broker.open(path.join(formation.root, ".twelve", "dev", "broker"), {
    retry: (queue, message, delay) => log.event("retry", `${queue} message ${message.id} (attempt ${message.attempts} failed), again in ${delay} s`),
    deadLetter: (queue, message, reason) =>
      log.event("dead-letter", `${queue} message ${message.id}: ${reason}; kept in .twelve/dev/broker/dead-letter/${queue}.jsonl`),
  });
  const slots = new Map<string, Slot>();
  let secrets = loadSecrets(formation, log);

  const brokerApi: DevBrokerApi = {
    send: (worker, body, delaySeconds) => broker.send(worker, body, delaySeconds === undefined ? {} : { delaySeconds }),
    workerOfQueue: (name) => formation.processes.find((p) => p.type === "worker" && queueName(formation.app, STAGE, p.name) === name)?.name,
  };
  const control: DevControl = {
    run: (name, body) => runProcess(name, body),
    status: () => ({
      app: formation.app,
      target: formation.target,
      processes: [...slots.values()].map((s) => ({
        name: s.process.name,
        type: s.process.type,
        up: s.current !== undefined,
        url: s.current?.url,
        ...(s.process.type === "worker" ? { queue: broker.stats(s.process.name) } : {}),
        ...(s.clock ? { nextRun: new Date(s.clock.next() ?? 0).toISOString() } : {}),
      })),
    }),
  };
  const server = await startDevServer({ root: formation.root, app: formation.app, target: formation.target, engine, broker: brokerApi, control });

  // ---- processes ----

  function newSlot(process: Process, built: ManifestProcess): Slot {
    let markUp: (p: DevProcess) => void = () => {};
    const up = new Promise<DevProcess>((resolve) => (markUp = resolve));
    return { process, built, variables: processVariables(process, secrets), port: ports.get(process.name), current: undefined, up, markUp, stopping: false, restarts: 0, startedAt: 0 };
  }

  async function launch(slot: Slot, engineToUse: DevEngine = engine): Promise<void> {
    const { process } = slot;
    slot.startedAt = Date.now();
    let instance: DevProcess;
    try {
      instance = await engineToUse.start({
        formation,
        process,
        stage: STAGE,
        built: slot.built,
        outDir: build.outDir,
        variables: slot.variables,
        port: slot.port,
        serverUrl: server.url,
        send: brokerApi.send,
        log: (line) => log.process(process.name, line),
      });
    } catch (error) {
      return crashed(slot, `failed to start: ${(error as Error).message}`);
    }
    if (slot.stopping) return void (await instance.stop());
    slot.current = instance;
    slot.markUp(instance);
    log.event("ready", describe(slot));
    void instance.ended.then((reason) => {
      if (slot.current === instance) crashed(slot, reason);
    });
  }

  function crashed(slot: Slot, reason: string): void {
    if (slot.stopping) return;
    slot.current = undefined;
    let markUp: (p: DevProcess) => void = () => {};
    slot.up = new Promise<DevProcess>((resolve) => (markUp = resolve));
    slot.markUp = markUp;
    // A process that ran a while starts over at a short delay; one that keeps dying backs off.
    if (Date.now() - slot.startedAt > 30_000) slot.restarts = 0;
    const delay = Math.min(250 * 2 ** slot.restarts, 10_000);
    slot.restarts++;
    log.event("crash", `${slot.process.name} ${reason}; restarting in ${delay} ms`);
    setTimeout(() => {
      if (!slot.stopping) void launch(slot);
    }, delay).unref();
  }

  async function stopSlot(slot: Slot): Promise<void> {
    slot.stopping = true;
    await slot.clock?.stop();
    await slot.current?.stop();
    slot.current = undefined;
  }

  function startClock(slot: Slot): void {
    const { process } = slot;
    if (process.type !== "clock") return;
    slot.clock = scheduleClock(process.schedule, process.timezone, async (scheduledTime) => {
      log.event("clock", `${process.name} fires for ${localTime(scheduledTime, process.timezone)}`);
      await fire(slot, scheduledTime);
    });
  }

  async function fire(slot: Slot, scheduledTime: number): Promise<void> {
    const instance = await slot.up;
    try {
      await instance.fire?.(scheduledTime);
    } catch (error) {
      log.event("error", `${slot.process.name} failed: ${(error as Error).message.split("\n")[0]}`);
      throw error;
    }
  }

  const deliver = async (worker: string, batch: BrokerMessage[]): Promise<Outcome[]> => {
    const slot = slots.get(worker);
    if (!slot) throw new Error(`no worker ${worker}`);
    const instance = await slot.up;
    return instance.deliver!(queueName(formation.app, STAGE, worker), batch);
  };

  function queueSpecs(): QueueSpec[] {
    return formation.processes.flatMap((p) => (p.type === "worker" ? [{ name: p.name, batchSize: p.batchSize, concurrency: p.concurrency, maxRetries: p.maxRetries }] : []));
  }

  async function runProcess(name: string, body: unknown): Promise<{ status: number; body: unknown }> {
    const slot = slots.get(name);
    if (!slot) return { status: 404, body: { error: `no process named "${name}" in ${formation.app}; processes: ${[...slots.keys()].join(", ")}` } };
    const { process } = slot;
    if (process.type === "web") return { status: 400, body: { error: `"${name}" is a web process: send it HTTP at ${slot.current?.url ?? `port ${slot.port}`}` } };
    if (process.type === "worker") {
      if (body === undefined) return { status: 400, body: { error: `"${name}" is a worker: give the message as JSON, e.g. twelve run ${name} '{"hello":"world"}'` } };
      const { id } = await broker.send(name, body);
      return { status: 202, body: { sent: name, id } };
    }
    const scheduledTime = Date.now();
    log.event("clock", `${name} fired by twelve run`);
    try {
      await fire(slot, scheduledTime);
    } catch (error) {
      return { status: 500, body: { error: `${name} failed: ${(error as Error).message}` } };
    }
    return { status: 200, body: { fired: name, scheduledTime: new Date(scheduledTime).toISOString() } };
  }

  // ---- start ----

  for (const process of formation.processes) slots.set(process.name, newSlot(process, builtOf(build, process.name)));
  for (const slot of slots.values()) startClock(slot);
  await Promise.all([...slots.values()].map((slot) => launch(slot)));
  broker.configure(queueSpecs(), deliver);
  log.event("ready", `${formation.app} on ${formation.target}: ${formation.processes.length} processes; twelve run PROCESS [JSON] reaches them (server ${server.url})`);

  // ---- reload ----

  let reloading = Promise.resolve();
  const watcher = watchFiles(() => [...dependencies, ...Object.values(build.sources).flat()], (changed) => {
    reloading = reloading.then(() => reload(changed)).catch((error) => log.event("error", String((error as Error).message)));
  });

  async function reload(changed: string[]): Promise<void> {
    const configChanged = changed.some((file) => dependencies.includes(file));
    const shown = changed.map((f) => path.relative(formation.root, f)).join(", ");
    let next = formation;
    if (configChanged) {
      try {
        ({ formation: next, dependencies } = await loadConfig({ cwd: options.cwd, config: options.config, target: options.target, stage: STAGE }));
      } catch (error) {
        return reportError(error, `${shown} changed, but the formation does not load; still running the previous one`);
      }
    }
    let nextBuild: BuildResult;
    try {
      nextBuild = await buildFormation(next, { stage: STAGE });
    } catch (error) {
      return reportError(error, `${shown} changed, but the build failed; still running the previous build`);
    }
    formation = next;
    build = nextBuild;
    secrets = loadSecrets(formation, log, false);
    log.setNames(formation.processes.map((p) => p.name));
    for (const [name, port] of await assignPorts(formation, options.port, ports)) ports.set(name, port);

    const restarted: string[] = [];
    for (const [name, slot] of slots) {
      if (formation.processes.some((p) => p.name === name)) continue;
      await stopSlot(slot);
      slots.delete(name);
      log.event("reload", `${name} removed from the formation and stopped (its queued messages stay on disk)`);
    }
    for (const process of formation.processes) {
      const built = builtOf(build, process.name);
      const old = slots.get(process.name);
      const fresh = newSlot(process, built);
      if (old && !changedProcess(old, fresh)) {
        old.built = built;
        continue;
      }
      if (old) await stopSlot(old);
      slots.set(process.name, fresh);
      restarted.push(process.name);
      startClock(fresh);
      await launch(fresh);
    }
    broker.configure(queueSpecs(), deliver);
    log.event("reload", restarted.length ? `${restarted.join(", ")} (${shown} changed)` : `nothing to restart (${shown} changed; no process's bundle or settings differ)`);
  }

  function reportError(error: unknown, what: string): void {
    log.event("error", what);
    if (error instanceof TwelveError) {
      for (const line of [error.message, ...error.details]) log.event("error", `  ${line}`);
    } else log.event("error", `  ${String((error as Error)?.message ?? error)}`);
  }

  // ---- stop ----

  let stopped: Promise<void> | undefined;
  async function stop(): Promise<void> {
    stopped ??= (async () => {
      watcher.close();
      log.event("stop", `finishing in-flight work (at most ${DRAIN_MS / 1000} s)...`);
      for (const slot of slots.values()) slot.stopping = true;
      await Promise.all([...slots.values()].map((s) => s.clock?.stop()));
      const drained = await broker.drain(DRAIN_MS);
      if (!drained) log.event("stop", "some batches did not finish in time: their messages stay on disk and are delivered on the next start");
      await Promise.all([...slots.values()].map((s) => stopSlot(s)));
      await broker.close();
      await server.close();
      log.event("stop", "stopped; undelivered messages are kept in .twelve/dev/broker");
    })();
    return stopped;
  }

  return { stop, serverUrl: server.url, formation: () => formation };
}

function builtOf(build: BuildResult, name: string): ManifestProcess {
  const built = build.manifest.processes.find((p) => p.name === name);
  if (!built) throw failure(`the build has no process ${name}`);
  return built;
}

/** Restart only when what the process runs or how it is set up differs. */
function changedProcess(old: Slot, fresh: Slot): boolean {
  return (
    old.built.artifacts.bundle?.sha256 !== fresh.built.artifacts.bundle?.sha256 ||
    JSON.stringify(old.process) !== JSON.stringify(fresh.process) ||
    JSON.stringify(old.variables) !== JSON.stringify(fresh.variables) ||
    old.built.sends.join() !== fresh.built.sends.join() ||
    old.current === undefined
  );
}

function describe(slot: Slot): string {
  const { process } = slot;
  if (process.type === "web") return `${process.name} ${slot.current?.url ?? ""} (cap ${process.concurrency})`;
  if (process.type === "worker") return `${process.name} (queue, cap ${process.concurrency}, batches of ${process.batchSize}, ${process.maxRetries} retries)`;
  const next = slot.clock?.next();
  return `${process.name} (${process.schedule} ${process.timezone}${next ? `, next ${localTime(next, process.timezone)}` : ""})`;
}

function localTime(time: number, timeZone: string): string {
  return `${new Date(time).toLocaleString("sv-SE", { timeZone }).slice(0, 16)} ${timeZone}`;
}

function loadSecrets(formation: Formation, log: DevLog, warn = true): Record<string, string> {
  const { values, missing } = devSecrets(formation);
  if (warn && missing.length) log.event("warn", `secret${missing.length > 1 ? "s" : ""} ${missing.join(", ")} not set in the shell or .env: env.${missing[0]} is undefined`);
  return values;
}

/** Web processes get ports counting up from --port, in config order; each must be free. */
async function assignPorts(formation: Formation, base: number, taken = new Map<string, number>()): Promise<Map<string, number>> {
  const ports = new Map(taken);
  let next = base;
  for (const process of formation.processes) {
    if (process.type !== "web" || ports.has(process.name)) continue;
    while ([...ports.values()].includes(next)) next++;
    if (!(await portIsFree(next))) {
      throw new TwelveError(`port ${next} (for web process "${process.name}") is in use`, {
        exitCode: 1,
        hint: `Stop what uses it, or start from another port: twelve dev --port ${next + 100}`,
      });
    }
    ports.set(process.name, next++);
  }
  return ports;
}


