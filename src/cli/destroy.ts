import { formatPlan, planJson, planMarkdown } from "../deploy/plan.ts";
import { globalFlags, parse } from "./args.ts";
import type { Command } from "./command.ts";
import { confirm, withDeployment } from "./deployment.ts";
import { Output } from "./output.ts";

export const destroy: Command = {
  async run(args, { adapters }) {
    const { values } = parse("destroy", args, { stage: { type: "string" }, target: { type: "string" }, yes: { type: "boolean", short: "y" } });
    const flags = globalFlags(values);
    const out = new Output(flags);
    return withDeployment(flags, values, adapters, out, async ({ formation, stage, deployed, deployment }) => {
      const plan = deployment.plan({ destroy: true });
      if (!plan.changes.length) {
        out.line(`Nothing of ${formation.app} (${stage}) is deployed.`);
        out.result({ ok: true, app: formation.app, stage, ...deployed.place, ...planJson(plan) });
        return 0;
      }
      for (const line of formatPlan(plan)) out.line(line);
      if (!(await confirm(`Delete every resource of ${formation.app} (${stage}), queued messages included?`, { yes: Boolean(values.yes), out, unattended: { refuse: `twelve destroy of ${formation.app} (${stage})` } }))) {
        out.line("Nothing deleted.");
        return 1;
      }
      await deployment.apply({ destroy: true }, (line) => out.line(`  ${line}`));
      out.line(`Destroyed ${formation.app} (${stage}).`);
      out.summary(`### twelve destroy: ${formation.app} (${stage}) on ${deployed.where}\n\n${planMarkdown(plan)}`);
      out.result({ ok: true, app: formation.app, stage, ...deployed.place, ...planJson(plan) });
      return 0;
    });
  },
};
