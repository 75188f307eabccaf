import { TWELVE_VERSION } from "../build/version.ts";
import { usageError } from "../errors.ts";
import { build } from "./build.ts";
import { dev } from "./dev.ts";
import { run } from "./run.ts";
import type { Command } from "./command.ts";
import { init } from "./init.ts";
import { Output } from "./output.ts";

const COMMANDS: Command[] = [init, build, dev, run];

/** Commands of the contract that this version does not have yet: said plainly, never faked. */
const NOT_YET = ["plan", "deploy", "scale", "ps", "logs", "destroy"];

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.usage.length));
  return [
    `twelve ${TWELVE_VERSION}: a 12-factor process formation on AWS Lambda and Cloudflare Workers`,
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
    "",
    "Global options: --config FILE, --cwd DIR, --json, --verbose, --help, --version",
    "Exit status: 0 done, 1 failed, 2 usage or config error. Honours NO_COLOR and CI.",
  ].join("\n");
}

/** Runs one command line; returns the exit status. Only bin/twelve.mjs calls process.exit. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const json = argv.includes("--json");
  const out = new Output({ json, verbose: argv.includes("--verbose") });
  try {
    if (name === undefined || name === "help" || name === "--help" || name === "-h") {
      out.line(help());
      return name === undefined ? 2 : 0;
    }
    if (name === "--version" || name === "-v") {
      out.line(TWELVE_VERSION);
      return 0;
    }
    const command = COMMANDS.find((c) => c.name === name);
    if (!command) {
      if (NOT_YET.includes(name)) {
        throw usageError(`twelve ${name} is not available in twelve ${TWELVE_VERSION} yet`, "Available now: " + COMMANDS.map((c) => c.name).join(", ") + ". See the README's Status section.");
      }
      throw usageError(`unknown command "${name}"`, `Commands: ${COMMANDS.map((c) => c.name).join(", ")}. Run \`twelve help\`.`);
    }
    if (rest.includes("--help") || rest.includes("-h")) {
      out.line(`${command.usage}\n\n${command.summary}`);
      return 0;
    }
    return await command.run(rest);
  } catch (error) {
    return out.error(error);
  }
}
