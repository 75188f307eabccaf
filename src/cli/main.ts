import { adapters } from "../../adapters/index.ts";
import { startEsbuild } from "../build/esbuild-start.ts";
import { TWELVE_VERSION } from "../build/version.ts";
import { failure, TwelveError, usageError } from "../errors.ts";
import type { Command } from "./command.ts";
import { Output } from "./output.ts";

/** The commands, loaded only when run: `twelve build` never loads twelve dev's modules. */
const COMMANDS: { name: string; summary: string; usage: string; load(): Promise<Command> }[] = [
  {
    name: "init",
    summary: "start a new app from templates/ (web, worker and clock)",
    usage: "twelve init [DIR] [--target aws|cloudflare] [--app NAME]",
    load: async () => (await import("./init.ts")).init,
  },
  {
    name: "build",
    summary: "bundle every process into .twelve/build/<target>/ with a manifest",
    usage: "twelve build [--target aws|cloudflare] [--stage NAME]",
    load: async () => (await import("./build.ts")).build,
  },
  {
    name: "types",
    summary: "write twelve-env.d.ts beside twelve.config.ts: send() typed by worker name and body (build and dev write it too)",
    usage: "twelve types",
    load: async () => (await import("./types.ts")).types,
  },
  {
    name: "dev",
    summary: "run the whole formation locally: web ports, a durable queue broker with caps, clocks on schedule",
    usage: "twelve dev [--target aws|cloudflare] [--port 3000]",
    load: async () => (await import("./dev.ts")).dev,
  },
  {
    name: "plan",
    summary: "what deploy would create, change and delete; changes nothing",
    usage: "twelve plan [--stage NAME] [--json]",
    load: async () => (await import("./plan.ts")).plan,
  },
  {
    name: "deploy",
    summary: "make the cloud match the formation (asks first, unless --yes or CI)",
    usage: "twelve deploy [--stage NAME] [--yes] [--force]",
    load: async () => (await import("./deploy.ts")).deploy,
  },
  {
    name: "destroy",
    summary: "remove every resource of the app and stage (asks first)",
    usage: "twelve destroy [--stage NAME] [--yes]",
    load: async () => (await import("./destroy.ts")).destroy,
  },
  {
    name: "scale",
    summary: "change caps in place, without a code deploy",
    usage: "twelve scale PROCESS=N ... [--stage NAME]",
    load: async () => (await import("./scale.ts")).scale,
  },
  {
    name: "ps",
    summary: "the formation as deployed: resource, cap, state, last change, URL or queue depth",
    usage: "twelve ps [--stage NAME]",
    load: async () => (await import("./ps.ts")).ps,
  },
  {
    name: "logs",
    summary: "the processes' logs, prefixed by process (AWS: CloudWatch Logs; Cloudflare: live, through wrangler tail)",
    usage: "twelve logs [PROCESS...] [--stage NAME] [--follow] [--since MINUTES]",
    load: async () => (await import("./logs.ts")).logs,
  },
  {
    name: "run",
    summary: "fire a clock now, or send one message to a worker: in the running twelve dev, or deployed with --stage",
    usage: "twelve run PROCESS [JSON | -] [--stage NAME] [--target aws|cloudflare]",
    load: async () => (await import("./run.ts")).run,
  },
  {
    name: "dlq",
    summary: "dead letters: per worker (and clock) how many and how old; one's list with its errors; --redrive sends them back, --purge deletes them",
    usage: "twelve dlq [PROCESS] [--redrive | --purge] [--id ID]... [--full] [--stage NAME] [--yes]",
    load: async () => (await import("./dlq.ts")).dlq,
  },
  {
    name: "policy",
    summary: "print what the deploying credentials need for the stage (AWS: an IAM policy document; Cloudflare: the API token's permissions)",
    usage: "twelve policy [--stage NAME] [--account ID] [--json]",
    load: async () => (await import("./policy.ts")).policy,
  },
];


function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.usage.length));
  return [
    `twelve ${TWELVE_VERSION}: a 12-factor process formation on AWS Lambda and Cloudflare Workers`,
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
    "",
    "Global options: --config FILE, --cwd DIR, --json, --verbose, --help, --version; --target aws|cloudflare overrides the config's target.",
    "Exit status: 0 done, 1 failed, 2 usage or config error. Honours NO_COLOR and CI.",
  ].join("\n");
}

/** What the file system said, in words (Node's errno codes). */
const FILE_ERRORS: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "the file system is read-only",
  ENOSPC: "no space left on the device",
  EDQUOT: "the disk quota is used up",
  ENOTDIR: "a part of the path is a file, not a folder",
  EISDIR: "it is a folder, not a file",
};

/**
 * A file twelve may not write or read (a read-only .twelve, a full disk) is the machine's
 * state, not a bug in twelve: one line naming the path, exit status 1.
 */
function fileSystemFailure(error: unknown): TwelveError | undefined {
  const { code, path: file, syscall } = (error ?? {}) as NodeJS.ErrnoException;
  const words = code === undefined ? undefined : FILE_ERRORS[code];
  if (words === undefined || typeof file !== "string" || typeof syscall !== "string") return undefined;
  return failure(`cannot ${syscall} ${file}: ${words} (${code})`, "Check that folder's permissions and free space: twelve writes its build and twelve dev's state under .twelve/ beside twelve.config.ts.", error);
}

/** A platform's error (an SDK's), as that platform explains it; twelve's own and real bugs as they are. */
function userFacing(error: unknown): unknown {
  if (error instanceof TwelveError) return error;
  const files = fileSystemFailure(error);
  if (files) return files;
  for (const adapter of Object.values(adapters)) {
    const explained = adapter.explainError?.(error);
    if (explained) return explained;
  }
  return error;
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
      throw usageError(`unknown command "${name}"`, `Commands: ${COMMANDS.map((c) => c.name).join(", ")}. Run \`twelve help\`.`);
    }
    if (rest.includes("--help") || rest.includes("-h")) {
      out.line(`${command.usage}\n\n${command.summary}`);
      return 0;
    }
    if (command.name !== "init") startEsbuild();
    return await (await command.load()).run(rest, { adapters });
  } catch (error) {
    // In CI the failure also goes to the step summary and, on GitHub, an annotation.
    return out.error(userFacing(error), COMMANDS.some((c) => c.name === name) ? name : undefined);
  }
}
