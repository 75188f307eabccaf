import path from "node:path";
import type { AdapterRegistry, DevBrokerApi, DevEngine, DevProcess } from "../adapter.ts";
import { buildFormation, type BuildResult } from "../build/build.ts";
import { writeTypes } from "../build/types.ts";
import type { ManifestProcess } from "../build/manifest.ts";
import { loadConfig } from "../config/load.ts";
import { failure, TwelveError } from "../errors.ts";
import { queueName } from "../formation/names.ts";
import { zonedMinute } from "../formation/timezone.ts";
import type { Formation, Process } from "../formation/types.ts";
import { Broker, NotDelivered, type BrokerMessage, type Outcome, type QueueSpec } from "./broker.ts";
import type { ClockRun } from "../adapter.ts";
import type { ClockProcess } from "../formation/types.ts";
import { LATE_LIMIT_MS } from "../runtime/late.ts";
import { scheduleClock } from "./clock.ts";
import { ClockHistory } from "./clock-history.ts";
import { devDeadLetters } from "./dead-letters.ts";
import type { ProcessView } from "./dashboard.ts";
import { scheduleInWords } from "../formation/crontab-words.ts";
import { systemClock } from "./time.ts";
import { devSecrets, processVariables } from "./env.ts";
import { takeDevLock, type DevLock } from "./lock.ts";
import { DevLog, type Printer } from "./output.ts";
import { assignPorts } from "./ports.ts";
import { planReload } from "./reload.ts";
import { startDevServer, type DevControl } from "./server.ts";
import { ProcessSlot, SlotGone, type SlotSpec } from "./slot.ts";
import { watchFiles } from "./watch.ts";

export interface DevOptions {
  cwd: string;
  config: string | undefined;
  target: string | undefined;
  port: number;
  adapters: AdapterRegistry;
  /** Where twelve dev's lines go (the CLI's output). */
  printer: Printer;
}

const STAGE = "dev";
/** How long shutdown waits for batches and clock runs in flight. */
const DRAIN_MS = 10_000;

/**
 * twelve dev: builds the formation for the target, runs every process on the target's engine
 * (one ProcessSlot each), feeds workers from the durable broker, fires clocks on schedule,
 * rebuilds and restarts only what a change touches (reload.ts), and restarts what crashes.
 * `stop()` shuts down cleanly.
 */
export async function startDev(options: DevOptions) {
  const load = () => loadConfig({ cwd: options.cwd, config: options.config, target: options.target, stage: STAGE, adapters: options.adapters });
  const loaded = await load();
  const lock = takeDevLock(path.join(loaded.formation.root, ".twelve", "dev"));
  try {
    return await runFormation(options, load, loaded, lock);
  } catch (error) {
    lock.release();
    throw error;
  }
}

type Loaded = Awaited<ReturnType<typeof loadConfig>>;

async function runFormation(options: DevOptions, load: () => Promise<Loaded>, loaded: Loaded, lock: DevLock) {
  let { formation, dependencies } = loaded;
  const log = new DevLog(options.printer, formation.processes.map((p) => p.name));
  const adapter = () => options.adapters[formation.target];
  const engine: DevEngine = await adapter().dev();
  // The editor's types of send() follow the formation, as twelve build and twelve types write them.
  let [build] = await Promise.all([buildFormation(formation, { stage: STAGE, adapter: adapter() }), writeTypes(formation)]);
  const ports = await assignPorts(formation.processes, options.port);
  const describeLock = () => lock.describe(formation.processes.filter((p) => p.type === "web").map((p) => `http://localhost:${ports.get(p.name)}`));
  describeLock();
  const broker = await Broker.open(path.join(formation.root, ".twelve", "dev", "broker"), {
    retry: (queue, message, delay, reason) => log.event("retry", `${queue} message ${message.id}: attempt ${message.attempts} failed (${reason}); again in ${delay} s`),
    deadLetter: (queue, message, reason) =>
      log.event("dead-letter", `${queue} message ${message.id}: ${reason}; kept in .twelve/dev/broker/dead-letter/${queue}.jsonl`),
    released: (queue, batch, why) => log.event("retry", `${queue} ${batch.length === 1 ? `message ${batch[0]?.id}` : `${batch.length} messages`} back in the queue, no attempt counted: ${why}`),
    unreadable: (queue, lines, from, to) =>
      log.event(
        "warn",
        `${queue}: ${lines} unreadable line${lines === 1 ? "" : "s"} in ${path.relative(formation.root, from)}, set aside in ${path.relative(formation.root, to)}; ` +
          `a message only they held is not delivered: read it there, and send what still matters again (twelve run ${queue} - < message.json)`,
      ),
  });
  const slots = new Map<string, ProcessSlot>();
  /** Each clock slot's schedule: the slot a reload replaces keeps its own until it is stopped. */
  const clocks = new Map<ProcessSlot, ReturnType<typeof scheduleClock>>();
  let secrets = loadSecrets(formation, log);

  const brokerApi: DevBrokerApi = {
    send: (worker, body, delaySeconds) => broker.send(worker, body, delaySeconds === undefined ? {} : { delaySeconds }),
    workerOfQueue: (name) => formation.processes.find((p) => p.type === "worker" && queueName(formation.app, STAGE, p.name) === name)?.name,
  };
  const histories = new Map<string, ClockHistory>();
  const historyOf = (clock: string): ClockHistory => {
    let history = histories.get(clock);
    if (!history) histories.set(clock, (history = new ClockHistory(path.join(formation.root, ".twelve", "dev", "clocks"), clock)));
    return history;
  };
  const deadLetters = devDeadLetters({ formation: () => formation, broker, history: historyOf });
  const control: DevControl = {
    run: (name, body) => runProcess(name, body),
    process: (name) => formation.processes.find((p) => p.name === name),
    deadLetters,
    status: async () => ({
      app: formation.app,
      target: formation.target,
      processes: await Promise.all([...slots.values()].map((s) => processView(s, broker, clocks.get(s), historyOf))),
    }),
  };
  const queues = () =>
    formation.processes.flatMap((p) => {
      if (p.type !== "worker") return [];
      const q = broker.stats(p.name);
      return [{ name: p.name, depth: q.ready + q.delayed + q.inFlight, delivered: q.delivered }];
    });
  const server = await startDevServer({ root: formation.root, app: formation.app, target: formation.target, engine, broker: brokerApi, control, dashboard: { queues, log } });

  // ---- processes ----

  const specOf = (process: Process): SlotSpec => ({ process, built: builtOf(build, process.name), variables: processVariables(process, secrets), port: ports.get(process.name) });

  const launch = (spec: SlotSpec): Promise<DevProcess> =>
    engine.start({
      formation,
      process: spec.process,
      stage: STAGE,
      built: spec.built,
      outDir: build.outDir,
      variables: spec.variables,
      port: spec.port,
      serverUrl: server.url,
      send: brokerApi.send,
      log: (line) => log.process(spec.process.name, line),
    });

  function newSlot(process: Process): ProcessSlot {
    const slot = new ProcessSlot(specOf(process), launch, {
      ready: (s) => log.event("ready", describe(s, clocks.get(s)?.next())),
      crash: (s, reason, delay) => log.event("crash", `${s.name} ${reason}; restarting in ${delay} ms`),
      unusable: (_s, reason) => log.event("error", `${reason}; not restarted until a change fixes it (twelve dev rebuilds on save)`),
    });
    slots.set(process.name, slot);
    if (process.type === "clock") {
      const history = historyOf(process.name);
      const when = (t: number) => zonedMinute(t, process.timezone);
      const run = (scheduledTime: number) => {
        log.event("clock", `${process.name} fires for ${when(scheduledTime)}`);
        return fire(slot, scheduledTime);
      };
      const scheduled = scheduleClock(process.schedule, process.timezone, run, systemClock, {
        skipped: (run) => {
          history.record(run);
          log.event("clock", `${process.name} skipped the run for ${when(run.scheduledTime)}: ${run.detail}`);
        },
        missed: (first, count, last) => {
          history.record(last);
          const which = count === 1 ? `the run for ${when(first)}` : `${count} runs, ${when(first)} to ${when(last.scheduledTime)}`;
          log.event("clock", `${process.name} missed ${which}: a run that cannot start within ${LATE_LIMIT_MS / 1000} s of its time is skipped (as deployed); next ${nextText(scheduled.next(), process.timezone)}`);
        },
        finished: (run) => {
          history.record(run);
          const how = run.outcome === "ok" ? "ok" : `failed (${run.detail})`;
          log.event("clock", `${process.name} ran for ${when(run.scheduledTime)}: ${how} in ${seconds(run.durationMs ?? 0)}; next ${nextText(scheduled.next(), process.timezone)}`);
        },
      });
      clocks.set(slot, scheduled);
    }
    return slot;
  }

  /** Stops a slot for good, and its clock (whose run in flight the slot's stop ends). */
  async function stopSlot(slot: ProcessSlot, why: "stopped" | "replaced"): Promise<void> {
    await Promise.all([clocks.get(slot)?.stop(), slot.stop(why)]);
    clocks.delete(slot);
  }

  /** One run of a clock (its outcome is logged by the clock's events, above). */
  async function fire(slot: ProcessSlot, scheduledTime: number): Promise<void> {
    await (await slot.whenUp()).fire?.(scheduledTime);
  }

  /**
   * Uses a process's slot; when a reload replaces the slot while `use` waits on it (SlotGone),
   * uses the one that replaced it, which is in place before the old one stops.
   */
  async function withCurrentSlot<T>(name: string, use: (slot: ProcessSlot) => Promise<T>): Promise<T> {
    for (;;) {
      const slot = slots.get(name);
      if (!slot) throw new Error(`no process ${name}`);
      try {
        return await use(slot);
      } catch (error) {
        if (error instanceof SlotGone && slots.get(name) !== slot && slots.has(name)) continue;
        throw error;
      }
    }
  }

  /** Hands a batch to the worker's process as it is now. */
  const deliver = (worker: string, batch: BrokerMessage[]): Promise<Outcome[]> =>
    withCurrentSlot(worker, async (slot) => {
      const instance = await slot.whenUp();
      if (!instance.deliver) throw new Error(`${worker} takes no batches`);
      return instance.deliver(queueName(formation.app, STAGE, worker), batch);
    }).catch((error: unknown) => {
      // Stopped (with no successor) before it came up: the worker never saw the batch.
      throw error instanceof SlotGone ? new NotDelivered(error.message) : error;
    });

  function queueSpecs(): QueueSpec[] {
    return formation.processes.flatMap((p) => (p.type === "worker" ? [{ name: p.name, batchSize: p.batchSize, concurrency: p.concurrency, maxRetries: p.maxRetries }] : []));
  }

  async function runProcess(name: string, body: unknown): Promise<{ status: number; body: unknown }> {
    const slot = slots.get(name);
    if (!slot) return { status: 404, body: { error: `no process named "${name}" in ${formation.app}; processes: ${[...slots.keys()].join(", ")}` } };
    const { process } = slot.spec;
    if (process.type === "web") return { status: 400, body: { error: `"${name}" is a web process: send it HTTP at ${slot.current?.url ?? `port ${slot.spec.port}`}` } };
    if (process.type === "worker") {
      if (body === undefined) return { status: 400, body: { error: `"${name}" is a worker: give the message as JSON, e.g. twelve run ${name} '{"hello":"world"}'` } };
      // The deployed queue would refuse it: so does the local one.
      const limit = adapter().limits.message;
      const bytes = Buffer.byteLength(JSON.stringify(body));
      if (bytes > limit.bytes) return { status: 400, body: { error: `the message is ${bytes} bytes as JSON; ${limit.setting} holds at most ${limit.bytes}` } };
      const { id } = await broker.send(name, body);
      return { status: 202, body: { sent: name, id } };
    }
    // A run would wait for the edit that fixes it: say so now instead (a message, above, waits).
    if (slot.state === "unusable") return { status: 409, body: { error: `${name} cannot run as built (twelve dev's output says why): fix it and save, then run it again` } };
    const scheduledTime = Date.now();
    // The clock's one-run-at-a-time rule holds for twelve run too: a run already going means
    // this one is skipped, at once (a reload's successor clock takes over when the old one stops).
    log.event("clock", `${name} fired by twelve run (for ${zonedMinute(scheduledTime, process.timezone)})`);
    let run: ClockRun;
    for (;;) {
      // A reload may replace the slot while the run waits for it: the run goes to its successor.
      const current = slots.get(name);
      const clock = current && clocks.get(current);
      if (!clock) return { status: 409, body: { error: `${name} is being replaced by a reload: run it again in a moment` } };
      run = await clock.fire(scheduledTime);
      const successor = slots.get(name);
      if (run.outcome === "failed" && successor !== undefined && successor !== current) continue;
      break;
    }
    const scheduled = new Date(scheduledTime).toISOString();
    if (run.outcome === "skipped") return { status: 409, body: { error: `${name} did not run: ${run.detail}`, skipped: name, scheduledTime: scheduled } };
    if (run.outcome === "failed") return { status: 500, body: { error: `${name} failed: ${run.detail}`, scheduledTime: scheduled, durationMs: run.durationMs } };
    return { status: 200, body: { fired: name, scheduledTime: scheduled, durationMs: run.durationMs } };
  }

  // ---- start ----

  await Promise.all(formation.processes.map((process) => newSlot(process).start()));
  broker.configure(queueSpecs(), deliver);
  // A process that cannot run is not counted as ready (slot.ts, Unusable).
  const unusable = [...slots.values()].filter((s) => s.state === "unusable").map((s) => s.name);
  const count = unusable.length ? `${formation.processes.length - unusable.length} of ${formation.processes.length} processes (${unusable.join(", ")} cannot run: see above)` : `${formation.processes.length} processes`;
  log.event(unusable.length ? "warn" : "ready", `${formation.app} on ${formation.target}: ${count}; twelve run PROCESS [JSON] reaches them (server ${server.url})`);
  log.event("ready", `dashboard ${server.url}/_twelve`);

  // ---- reload ----

  let reloading = Promise.resolve();
  // The watcher re-reads the files to watch once the reload it triggered is done: a file a
  // change newly imports is watched from then on.
  const watcher = watchFiles(
    () => [...dependencies, ...Object.values(build.sources).flat()],
    (changed) => (reloading = reloading.then(() => reload(changed)).catch((error) => log.event("error", String((error as Error).message)))),
  );

  async function reload(changed: string[]): Promise<void> {
    const configChanged = changed.some((file) => dependencies.includes(file));
    const shown = changed.map((f) => path.relative(formation.root, f)).join(", ");
    let next = formation;
    let nextDependencies = dependencies;
    if (configChanged) {
      try {
        ({ formation: next, dependencies: nextDependencies } = await load());
      } catch (error) {
        return reportError(error, `${shown} changed, but the formation does not load; still running the previous one`);
      }
    }
    let nextBuild: BuildResult;
    try {
      [nextBuild] = await Promise.all([buildFormation(next, { stage: STAGE, adapter: options.adapters[next.target] }), configChanged ? writeTypes(next) : undefined]);
    } catch (error) {
      return reportError(error, `${shown} changed, but the build failed; still running the previous build`);
    }
    // A process's code changed if one of its own sources did, in the old build or the new one.
    const oldSources = build.sources;
    const edited = (name: string) => changed.some((file) => oldSources[name]?.includes(file) || nextBuild.sources[name]?.includes(file));
    const formationChanged = bundleInputs(formation) !== bundleInputs(next);
    formation = next;
    dependencies = nextDependencies;
    build = nextBuild;
    secrets = loadSecrets(formation, log, false);
    log.setNames(formation.processes.map((p) => p.name));
    for (const [name, port] of await assignPorts(formation.processes, options.port, ports)) ports.set(name, port);
    describeLock();

    const running = new Map([...slots].map(([name, slot]) => [name, { spec: slot.spec, up: slot.state === "up" }]));
    const plan = planReload(running, formation.processes.map(specOf), { edited, formationChanged });
    for (const name of plan.remove) {
      await stopSlot(slots.get(name) as ProcessSlot, "stopped");
      slots.delete(name);
      log.event("reload", `${name} removed from the formation and stopped (its queued messages stay on disk)`);
    }
    for (const name of plan.keep) (slots.get(name) as ProcessSlot).spec.built = builtOf(build, name);
    // Every new slot is in place before the old ones stop, so what waited for an old one (a
    // batch, a twelve run) finds its successor. All old ones stop before any successor starts:
    // the new build is already in place, and an old slot left running meanwhile (a crashed one
    // restarting) could come up on it, take what waited, and be stopped with it in hand.
    const replaced = plan.start.map((name) => ({ old: slots.get(name), fresh: newSlot(formation.processes.find((p) => p.name === name) as Process) }));
    await Promise.all(replaced.map(({ old }) => old && stopSlot(old, "replaced")));
    await Promise.all(replaced.map(({ fresh }) => fresh.start()));
    broker.configure(queueSpecs(), deliver);
    log.event("reload", plan.start.length ? `${plan.start.join(", ")} (${shown} changed)` : `nothing to restart (${shown} changed; no process's bundle or settings differ)`);
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
      // One bound for everything in flight (a reload, clock runs, batches): past it, the
      // processes are killed, whatever they are doing. A clock's run can take minutes.
      const deadline = Date.now() + DRAIN_MS;
      const left = () => Math.max(0, deadline - Date.now());
      // No reload may start a process after this: it would outlive twelve dev.
      await within(reloading, left());
      // A process that is not up has nothing in flight: what waits for it (a clock's run, a
      // batch) is let go now rather than at the deadline.
      await Promise.all([...slots.values()].filter((s) => s.state !== "up").map((s) => stopSlot(s, "stopped")));
      const [clocksDone, drained] = await Promise.all([within(Promise.all([...clocks.values()].map((c) => c.stop())), left()), broker.drain(left())]);
      if (!drained) log.event("stop", "some batches did not finish in time: their messages stay on disk and are delivered on the next start");
      if (!clocksDone) log.event("stop", "a clock's run did not finish in time: it was cut short");
      await Promise.all([...slots.values()].map((s) => s.stop("stopped", left())));
      await broker.close();
      await server.close();
      lock.release();
      log.event("stop", "stopped; undelivered messages are kept in .twelve/dev/broker");
    })();
    return stopped;
  }

  return { stop, serverUrl: server.url, formation: () => formation };
}

/** Whether `work` settled within `ms` (it goes on either way). */
async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)));
  try {
    return await Promise.race([work.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** What every process's bundle and platform settings are made from, beyond the process itself. */
function bundleInputs(formation: Formation): string {
  return JSON.stringify([formation.app, formation.target, formation.secrets, formation.aws, formation.cloudflare]);
}

function builtOf(build: BuildResult, name: string): ManifestProcess {
  const built = build.manifest.processes.find((p) => p.name === name);
  if (!built) throw failure(`the build has no process ${name}`);
  return built;
}

function describe(slot: ProcessSlot, next: number | undefined): string {
  const { process } = slot.spec;
  if (process.type === "web") return `${process.name} ${slot.current?.url ?? ""} (cap ${process.concurrency})`;
  if (process.type === "worker") return `${process.name} (queue, cap ${process.concurrency}, batches of ${process.batchSize}, ${process.maxRetries} retries)`;
  return `${process.name} (${process.schedule} ${process.timezone}${next ? `, next ${nextText(next, process.timezone)}` : ""})`;
}

/** One process as GET /_twelve/status and the dashboard show it: state, cap and how much of it is in use. */
async function processView(slot: ProcessSlot, broker: Broker, scheduled: ReturnType<typeof scheduleClock> | undefined, historyOf: (clock: string) => ClockHistory): Promise<ProcessView> {
  const { process } = slot.spec;
  const view: ProcessView = {
    name: slot.name,
    type: process.type,
    state: slot.state,
    up: slot.state === "up",
    restarts: slot.restarts,
    restartAt: slot.restartAt === null ? null : new Date(slot.restartAt).toISOString(),
    cap: process.concurrency ?? 1,
    inUse: null,
    ...(slot.current?.url ? { url: slot.current.url } : {}),
  };
  if (process.type === "web") view.inUse = slot.state === "up" ? ((await slot.current?.inFlight?.()) ?? null) : 0;
  if (process.type === "worker") {
    const { maxInFlightBatches: _, ...queue } = broker.stats(slot.name);
    view.queue = queue;
    view.inUse = queue.inFlightBatches;
  }
  if (process.type === "clock") {
    const history = historyOf(slot.name);
    const clock = clockStatus(process, scheduled, history.last());
    view.clock = { ...clock, words: scheduleInWords(process.schedule), deadLetters: history.failures().length };
    view.inUse = clock.going ? 1 : 0;
  }
  return view;
}

/** A clock's schedule, next run (its zone and UTC), last run and the run going, for /_twelve/status. */
function clockStatus(process: ClockProcess, scheduled: ReturnType<typeof scheduleClock> | undefined, remembered: ClockRun | undefined) {
  const next = scheduled?.next();
  const last = scheduled?.last() ?? remembered;
  const going = scheduled?.going();
  return {
    schedule: process.schedule,
    timezone: process.timezone,
    nextRun: next === undefined ? null : { utc: new Date(next).toISOString(), local: zonedMinute(next, process.timezone) },
    lastRun: last ? { ...last, scheduledTime: new Date(last.scheduledTime).toISOString(), startedAt: last.startedAt === null ? null : new Date(last.startedAt).toISOString() } : null,
    going: going ? { scheduledTime: new Date(going.scheduledTime).toISOString(), startedAt: new Date(going.startedAt).toISOString() } : null,
  };
}

function nextText(next: number | undefined, timeZone: string): string {
  if (next === undefined) return "never";
  return timeZone === "UTC" ? zonedMinute(next, "UTC") : `${zonedMinute(next, timeZone)} (${new Date(next).toISOString().slice(11, 16)} UTC)`;
}

const seconds = (ms: number) => (ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);


function loadSecrets(formation: Formation, log: DevLog, warn = true): Record<string, string> {
  const { values, missing } = devSecrets(formation);
  if (warn && missing.length) log.event("warn", `secret${missing.length > 1 ? "s" : ""} ${missing.join(", ")} not set in the shell or .env: env.${missing[0]} is undefined`);
  return values;
}
