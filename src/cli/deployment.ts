import readline from "node:readline/promises";
import type { AdapterRegistry } from "../adapter.ts";
import { openDeployment } from "../deploy/stage.ts";
import { usageError } from "../errors.ts";
import { stageOptions, type GlobalFlags } from "./args.ts";
import type { Output } from "./output.ts";

type Opened = Awaited<ReturnType<typeof openDeployment>>;

/** What plan, deploy and destroy share: the build and the deployment, a line saying where it goes, and cleaning up after. */
export async function withDeployment(flags: GlobalFlags, values: { stage?: string | undefined; target?: string | undefined }, adapters: AdapterRegistry, out: Output, run: (opened: Opened) => Promise<number>): Promise<number> {
  const opened = await openDeployment(stageOptions(flags, values, adapters, out));
  try {
    out.line(`${out.bold(opened.formation.app)} stage ${out.bold(opened.stage)} on ${opened.deployed.where}`);
    return await run(opened);
  } finally {
    await opened.close();
  }
}

/**
 * Asks before a change, unless told not to (--yes). Where nobody can answer (CI, no terminal,
 * --json), a deploy goes ahead, since it is what a CI job is for; a destroy does not: deleting
 * a whole stage because a script forgot to ask is not a default anyone wants.
 */
export async function confirm(question: string, options: { yes: boolean; out: Output; unattended?: "proceed" | { refuse: string } }): Promise<boolean> {
  if (options.yes) return true;
  const { out, unattended = "proceed" } = options;
  const noTerminal = out.ci || !process.stdin.isTTY || out.json;
  if (noTerminal) {
    if (unattended === "proceed") return true;
    const why = out.ci ? "CI is set" : out.json ? "--json was given" : "stdin is not a terminal";
    throw usageError(`${unattended.refuse} needs confirmation, and there is nobody to ask (${why})`, "Run it again with --yes to confirm.");
  }
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}
