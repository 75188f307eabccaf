import { openStage } from "../deploy/stage.ts";
import { globalFlags, parse, stageOptions } from "./args.ts";
import type { Command } from "./command.ts";
import { Output, table } from "./output.ts";

/** The formation as deployed: each process, its resource, cap, state, last change, URL or queue depth. */
export const ps: Command = {
  async run(args, { adapters }) {
    const { values } = parse("ps", args, { stage: { type: "string" }, target: { type: "string" } });
    const flags = globalFlags(values);
    const out = new Output(flags);
    const { formation, stage, deployed } = await openStage(stageOptions(flags, values, adapters, out));
    const { processes: rows, notes } = await deployed.ps();
    out.line(`${out.bold(formation.app)} stage ${out.bold(stage)}`);
    const lines = table([
      ["PROCESS", "TYPE", "RESOURCE", "CAP", "STATE", "LAST CHANGE", "URL / QUEUE"],
      ...rows.map((r) => [r.process, r.type, r.resource, r.cap === null ? "-" : String(r.cap), r.state, r.lastChange ?? "-", r.url ?? (r.queueDepth === null ? "-" : `${r.queueDepth} waiting`)]),
    ]);
    for (const line of lines) out.line(line);
    for (const note of notes) out.note(note);
    out.result({ ok: true, app: formation.app, stage, processes: rows });
    return 0;
  },
};
