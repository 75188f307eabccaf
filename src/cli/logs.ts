import { connectStage, stageFormation } from "../deploy/stage.ts";
import { usageError } from "../errors.ts";
import { globalFlags, parse, stageOptions } from "./args.ts";
import type { Command } from "./command.ts";
import { Output } from "./output.ts";

/** The processes' logs, prefixed by process, as the platform keeps them (AWS: CloudWatch; Cloudflare: live tail). */
export const logs: Command = {
  async run(args, { adapters }) {
    const { values, positionals } = parse("logs", args, { stage: { type: "string" }, target: { type: "string" }, follow: { type: "boolean", short: "f" }, since: { type: "string" } });
    const flags = globalFlags(values);
    const out = new Output(flags);
    const sinceMinutes = values.since === undefined ? undefined : Number(values.since);
    if (sinceMinutes !== undefined && (!Number.isFinite(sinceMinutes) || sinceMinutes <= 0)) throw usageError(`--since: expected minutes, got "${values.since}"`);
    const options = stageOptions(flags, values, adapters, out);
    const loaded = await stageFormation(options);
    const { formation } = loaded;
    const wanted = positionals.length ? positionals : formation.processes.map((p) => p.name);
    for (const name of wanted) {
      if (!formation.processes.some((p) => p.name === name)) throw usageError(`no process named "${name}"; processes: ${formation.processes.map((p) => p.name).join(", ")}`);
    }
    const width = Math.max(...wanted.map((n) => n.length));
    const { deployed } = await connectStage(loaded, options);
    return deployed.logs(wanted, { follow: Boolean(values.follow), sinceMinutes }, {
      print(process, timestamp, message) {
        if (out.json) out.line(JSON.stringify({ process, time: new Date(timestamp).toISOString(), message }));
        else out.line(`${out.dim(new Date(timestamp).toISOString())} ${out.paint("36", process.padEnd(width))} | ${message}`);
      },
      note: (text) => out.note(text),
    });
  },
};
