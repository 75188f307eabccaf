import path from "node:path";
import { buildFormation } from "../build/build.ts";
import { loadConfig } from "../config/load.ts";
import { globalFlags, parse, stageFlag } from "./args.ts";
import { formatBytes, Output, table } from "./output.ts";
import type { Command } from "./command.ts";

export const build: Command = {
  async run(args) {
    const { values } = parse("build", args, { target: { type: "string" }, stage: { type: "string" } });
    const flags = globalFlags(values);
    const out = new Output(flags);
    const stage = stageFlag(values.stage);

    const started = performance.now();
    const { formation } = await loadConfig({ cwd: path.resolve(flags.cwd), config: flags.config, target: values.target, stage });
    out.line(`${out.bold("twelve build")} ${formation.app} → ${formation.target} ${out.dim(`(stage ${stage}, ${formation.processes.length} processes)`)}`);
    const result = await buildFormation(formation, { stage });
    const ms = Math.round(performance.now() - started);

    const relative = (file: string) => path.relative(process.cwd(), path.join(result.outDir, file)) || ".";
    const rows = result.manifest.processes.map((p) => {
      const main = p.artifacts.zip ?? p.artifacts.bundle;
      const extra = p.type === "clock" ? String(p.platform.scheduleExpression ?? (p.platform.crons as string[]).join(" ")) : "";
      return [`  ${p.name}`, p.type, relative(main?.path ?? ""), formatBytes(main?.bytes ?? 0), out.dim(`bundle ${formatBytes(p.artifacts.bundle?.bytes ?? 0)}`), extra];
    });
    for (const line of table(rows)) out.line(line);
    for (const note of result.manifest.notes) out.note(note);
    out.line(`Built ${result.manifest.processes.length} processes in ${ms} ms → ${relative("manifest.json")}`);
    out.result({ ok: true, manifestPath: result.manifestPath, durationMs: ms, manifest: result.manifest });
    return 0;
  },
};
