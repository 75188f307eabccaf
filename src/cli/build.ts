import path from "node:path";
import { buildFormation } from "../build/build.ts";
import { writeTypes } from "../build/types.ts";
import { stageFormation } from "../deploy/stage.ts";
import { globalFlags, parse, stageOptions } from "./args.ts";
import { formatBytes, Output, table } from "./output.ts";
import type { Command } from "./command.ts";

export const build: Command = {
  async run(args, { adapters }) {
    const { values } = parse("build", args, { target: { type: "string" }, stage: { type: "string" } });
    const flags = globalFlags(values);
    const out = new Output(flags);

    const started = performance.now();
    const { formation, stage, adapter } = await stageFormation({ ...stageOptions(flags, values, adapters), entriesCheckedByBuild: true });
    out.line(`${out.bold("twelve build")} ${formation.app} → ${formation.target} ${out.dim(`(stage ${stage}, ${formation.processes.length} processes)`)}`);
    // The editor's types of send() follow the formation: written before bundling, as `twelve types` would.
    const [result] = await Promise.all([buildFormation(formation, { stage, adapter }), writeTypes(formation)]);
    const ms = Math.round(performance.now() - started);

    const relative = (file: string) => path.relative(process.cwd(), path.join(result.outDir, file)) || ".";
    const rows = result.manifest.processes.map((p) => {
      const main = p.artifacts.zip ?? p.artifacts.bundle;
      return [`  ${p.name}`, p.type, relative(main?.path ?? ""), formatBytes(main?.bytes ?? 0), out.dim(`bundle ${formatBytes(p.artifacts.bundle?.bytes ?? 0)}`), p.type === "clock" ? adapter.scheduleOf(p) : ""];
    });
    for (const line of table(rows)) out.line(line);
    for (const note of result.manifest.notes) out.note(note);
    out.line(`Built ${result.manifest.processes.length} processes in ${ms} ms → ${relative("manifest.json")}`);
    out.result({ ok: true, manifestPath: result.manifestPath, durationMs: ms, manifest: result.manifest });
    return 0;
  },
};
