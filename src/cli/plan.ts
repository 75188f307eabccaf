import { formatPlan, planMarkdown } from "../deploy/plan.ts";
import { globalFlags, parse } from "./args.ts";
import type { Command } from "./command.ts";
import { planJson, prepareDeployment } from "./deployment.ts";
import { Output } from "./output.ts";

export const plan: Command = {
  async run(args) {
    const { values } = parse("plan", args, { stage: { type: "string" }, target: { type: "string" }, force: { type: "boolean" } });
    const flags = globalFlags(values);
    const out = new Output(flags);
    const { formation, stage, deployment } = await prepareDeployment(flags, values, out);
    const result = deployment.plan({ force: Boolean(values.force) });
    for (const line of formatPlan(result)) out.line(line);
    out.summary(`### twelve plan: ${formation.app} (${stage}) on ${deployment.where}\n\n${planMarkdown(result)}`);
    out.result({ ok: true, app: formation.app, stage, ...deployment.place, ...planJson(result) });
    return 0;
  },
};
