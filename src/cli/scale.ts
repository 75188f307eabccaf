import { isRange, type ScaleRequest } from "../adapter.ts";
import { connectStage, stageFormation } from "../deploy/stage.ts";
import { usageError } from "../errors.ts";
import { globalFlags, parse, stageOptions } from "./args.ts";
import type { Command } from "./command.ts";
import { Output } from "./output.ts";

/** twelve scale web=100 mailer=20: caps changed in place, no code deployed. */
export const scale: Command = {
  async run(args, { adapters }) {
    const { values, positionals } = parse("scale", args, { stage: { type: "string" }, target: { type: "string" } });
    const flags = globalFlags(values);
    const out = new Output(flags);
    if (!positionals.length) throw usageError("twelve scale needs at least one PROCESS=N", "For example: twelve scale web=100 mailer=20 --stage prod");
    const wanted = positionals.map((arg) => {
      const match = /^([a-z][a-z0-9-]*)=(\d+)$/.exec(arg);
      if (!match) throw usageError(`"${arg}" is not PROCESS=N`, "For example: twelve scale web=100 mailer=20");
      return { name: match[1] as string, cap: Number(match[2]) };
    });
    const options = stageOptions(flags, values, adapters, out);
    const loaded = await stageFormation(options);
    const { formation, stage, adapter } = loaded;

    // Every request is checked before the first call: a bad one changes nothing.
    const { limits } = adapter;
    const requests = wanted.map(({ name, cap }): ScaleRequest => {
      const process = formation.processes.find((p) => p.name === name);
      if (!process) throw usageError(`no process named "${name}"; processes: ${formation.processes.map((p) => p.name).join(", ")}`);
      if (process.type === "clock") throw usageError(`"${name}" is a clock: clocks run one at a time, so their cap is always 1`);
      const range = process.type === "web" ? limits.webConcurrency : limits.workerConcurrency;
      if (!isRange(range)) throw usageError(`"${name}" is a web process: ${range.why}`, range.hint);
      if (cap < range.min || cap > range.max) throw usageError(`${name}=${cap}: expected ${range.min}..${range.max} on ${formation.target} (${range.setting})`);
      return { process, cap };
    });

    const { deployed } = await connectStage(loaded, options);
    // Each change is reported as it is made: a later failure loses none of them.
    const changed = await deployed.scale(requests, (change) => out.line(`${change.process}: ${change.from ?? "(none)"} → ${change.to}`));
    for (const { process, cap } of requests) {
      if (process.concurrency !== cap) out.note(`twelve.config.ts still says ${process.name} concurrency ${process.concurrency}: the next deploy sets it back unless you change it there`);
    }
    out.result({ ok: true, app: formation.app, stage, changed });
    return 0;
  },
};
