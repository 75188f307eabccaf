import { formatPlan, planJson, planMarkdown, toApply } from "../deploy/plan.ts";
import { globalFlags, parse } from "./args.ts";
import type { Command } from "./command.ts";
import { confirm, withDeployment } from "./deployment.ts";
import { Output } from "./output.ts";

export const deploy: Command = {
  async run(args, { adapters }) {
    const { values } = parse("deploy", args, { stage: { type: "string" }, target: { type: "string" }, yes: { type: "boolean", short: "y" }, force: { type: "boolean" } });
    const flags = globalFlags(values);
    const out = new Output(flags);
    const started = performance.now();
    return withDeployment(flags, values, adapters, out, async ({ formation, stage, deployed, deployment, build }) => {
      // What the platform forced, and warnings (a worker that may loop through its own queue).
      for (const note of build.manifest.notes) out.note(note);
      const plan = deployment.plan({ force: Boolean(values.force) });
      for (const line of formatPlan(plan)) out.line(line);
      const changes = toApply(plan);
      if (changes.length && !(await confirm("Apply these changes?", { yes: Boolean(values.yes), out }))) {
        out.line("Nothing changed.");
        return 1;
      }
      let applied = plan;
      if (changes.length) applied = await deployment.apply({ force: Boolean(values.force) }, (line) => out.line(`  ${line}`));
      else out.line("Nothing to change.");
      if (JSON.stringify(planJson(applied)) !== JSON.stringify(planJson(plan))) out.note("the deployed state changed after the plan above was made (another deploy?): applied the plan from the state found then");

      const urls = await deployment.webUrls();
      for (const [name, url] of Object.entries(urls)) out.line(`${out.bold(name)} ${url}`);
      const ms = Math.round(performance.now() - started);
      out.line(out.dim(`Deployed ${formation.app} (${stage}) in ${(ms / 1000).toFixed(1)} s: ${deployment.callSummary()}.`));
      const urlLines = Object.entries(urls).map(([name, url]) => `- **${name}**: ${url}`);
      out.summary(`### ✅ twelve deploy: ${formation.app} (${stage}) on ${deployed.where}\n\n${planMarkdown(applied)}\n\n${urlLines.length ? `${urlLines.join("\n")}\n\n` : ""}Done in ${(ms / 1000).toFixed(1)} s.`);
      out.result({ ok: true, app: formation.app, stage, ...deployed.place, notes: build.manifest.notes, ...planJson(applied), urls, calls: deployment.calls(), durationMs: ms });
      return 0;
    });
  },
};
