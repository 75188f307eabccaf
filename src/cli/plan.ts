import { formatPlan, planJson, planMarkdown } from "../deploy/plan.ts";
import { globalFlags, parse } from "./args.ts";
import type { Command } from "./command.ts";
import { withDeployment } from "./deployment.ts";
import { Output } from "./output.ts";

export const plan: Command = {
  async run(args, { adapters }) {
    const { values } = parse("plan", args, { stage: { type: "string" }, target: { type: "string" }, force: { type: "boolean" } });
    const flags = globalFlags(values);
    const out = new Output(flags);
    return withDeployment(flags, values, adapters, out, async ({ formation, stage, deployed, deployment, build }) => {
      // What the platform forced, and warnings (a worker that may loop through its own queue).
      for (const note of build.manifest.notes) out.note(note);
      const result = deployment.plan({ force: Boolean(values.force) });
      for (const line of formatPlan(result)) out.line(line);
      out.summary(`### twelve plan: ${formation.app} (${stage}) on ${deployed.where}\n\n${planMarkdown(result)}`);
      out.result({ ok: true, app: formation.app, stage, ...deployed.place, notes: build.manifest.notes, ...planJson(result) });
      return 0;
    });
  },
};
