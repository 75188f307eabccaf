import { stageFormation } from "../deploy/stage.ts";
import { usageError } from "../errors.ts";
import { globalFlags, parse, stageOptions } from "./args.ts";
import type { Command } from "./command.ts";
import { Output } from "./output.ts";

/** twelve policy: what the deploying credentials need for a stage, printed ready to hand to the platform. */
export const policy: Command = {
  async run(args, { adapters }) {
    const { values } = parse("policy", args, { stage: { type: "string" }, target: { type: "string" }, account: { type: "string" } });
    const flags = globalFlags(values);
    // stdout carries only the document (so `twelve policy > policy.json` works); notes go to stderr.
    const out = new Output({ ...flags, json: true });
    const { formation, stage, adapter } = await stageFormation(stageOptions(flags, values, adapters));
    if (!adapter.policy) throw usageError(`twelve policy: ${adapter.platform} has no policy for twelve to print`);
    const { document, notes } = adapter.policy(formation, stage, { env: process.env, account: values.account });
    for (const note of notes) out.note(note);
    out.result(flags.json ? { ok: true, app: formation.app, stage, target: formation.target, policy: document } : document);
    return 0;
  },
};
