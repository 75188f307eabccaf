import path from "node:path";
import { writeTypes } from "../build/types.ts";
import { stageFormation } from "../deploy/stage.ts";
import { globalFlags, parse, stageOptions } from "./args.ts";
import type { Command } from "./command.ts";
import { Output } from "./output.ts";

export const types: Command = {
  async run(args, { adapters }) {
    const { values } = parse("types", args, {});
    const flags = globalFlags(values);
    const out = new Output(flags);
    const { formation } = await stageFormation(stageOptions(flags, {}, adapters));
    const { file, written } = await writeTypes(formation);
    const workers = formation.processes.filter((p) => p.type === "worker").map((p) => p.name);
    const shown = path.relative(process.cwd(), file) || file;
    out.line(`${written ? "Wrote" : "Unchanged:"} ${shown} ${out.dim(`(send() and sendBatch() typed for ${workers.length ? workers.join(", ") : "no workers"})`)}`);
    out.result({ ok: true, file, written, workers });
    return 0;
  },
};
