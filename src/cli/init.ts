import fs from "node:fs";
import path from "node:path";
import { FROM_SOURCE, TWELVE_ROOT } from "../build/twelve-paths.ts";
import { TWELVE_MANIFEST, TWELVE_VERSION } from "../build/version.ts";
import { peerRange } from "../peers.ts";
import { usageError } from "../errors.ts";
import { APP_PATTERN } from "../formation/names.ts";
import { TARGETS, type Target } from "../formation/types.ts";
import { globalFlags, parse } from "./args.ts";
import type { Command } from "./command.ts";
import { Output } from "./output.ts";

const TEMPLATE = path.join(TWELVE_ROOT, "templates", "default");
/** The GitHub Actions workflow for each target: plan on pull requests, deploy on push to main. */
export const WORKFLOWS = path.join(TWELVE_ROOT, "templates", "workflows");
const WORKFLOW_PATH = ".github/workflows/twelve.yml";
/** npm drops .gitignore from published packages, so the template keeps it without the dot. */
const RENAMES: Record<string, string> = { gitignore: ".gitignore" };
/** The Node twelve needs (package.json's engines, ">=22.12.0"); a machine with an older one gets it as the app's `node` package. */
const NODE_NEEDED = (/(\d+)\.(\d+)/.exec(TWELVE_MANIFEST.engines.node) ?? []).slice(1, 3).map(Number);

export const init: Command = {
  async run(args, { adapters }) {
    const { values, positionals } = parse("init", args, { target: { type: "string" }, app: { type: "string" } });
    const flags = globalFlags(values);
    const out = new Output(flags);
    if (positionals.length > 1) throw usageError(`twelve init takes one directory, got ${positionals.length}: ${positionals.join(" ")}`);
    const dir = path.resolve(flags.cwd, positionals[0] ?? ".");
    const target = values.target ?? "aws";
    if (!(TARGETS as readonly string[]).includes(target)) throw usageError(`--target: expected "aws" or "cloudflare", got "${target}"`);
    const app = values.app ?? appNameFrom(path.basename(dir));
    if (!APP_PATTERN.test(app)) {
      throw usageError(`app name "${app}" is not usable: expected 2 to 31 lower-case letters, digits or hyphens, starting with a letter`, "Pass --app NAME.");
    }
    if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) {
      throw usageError(`${dir} is a file; twelve init writes a new app into a new or empty directory`, "Choose a directory name that is not taken, e.g. twelve init my-app.");
    }
    if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) {
      throw usageError(`${dir} is not empty; twelve init writes only into a new or empty directory`, "Choose another directory.");
    }

    const replacements: Record<string, string> = { __APP__: app, __TARGET__: target, __TWELVE__: twelveDependency() };
    const written = copyTemplate(TEMPLATE, dir, replacements);
    const oldNode = addDevDependencies(path.join(dir, "package.json"), adapters[target as Target].packages);
    fs.mkdirSync(path.join(dir, path.dirname(WORKFLOW_PATH)), { recursive: true });
    fs.copyFileSync(path.join(WORKFLOWS, `${target}.yml`), path.join(dir, WORKFLOW_PATH));
    written.push(WORKFLOW_PATH);
    const shown = path.relative(process.cwd(), dir) || ".";
    out.line(`Created ${app} (${target}) in ${shown}: ${written.length} files`);
    for (const file of written) out.line(`  ${file}`);
    out.line("");
    out.line("Next:");
    if (shown !== ".") out.line(`  cd ${/^[\w./-]+$/.test(shown) ? shown : JSON.stringify(shown)}`);
    out.line("  npm install");
    out.line("  npx twelve dev");
    if (oldNode) out.note(`this machine runs Node ${process.versions.node}; twelve needs ${NODE_NEEDED.join(".")} or newer, so the app gets Node 22 as its node dev dependency (npx and npm scripts use it)`);
    out.result({ ok: true, app, target, dir, files: written });
    return 0;
  },
};

/** A directory name made into an app name: lower case, hyphens, at most 31 characters. */
export function appNameFrom(name: string): string {
  const cleaned = name.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^[^a-z]+/, "").replace(/-+/g, "-");
  return cleaned.slice(0, 31).replace(/-+$/, "");
}

/**
 * An installed twelve (npx, or an app's node_modules) writes its own version as a range, which
 * resolves on any machine; a checkout of twelve links itself, for trying a change out.
 */
function twelveDependency(): string {
  return FROM_SOURCE ? `file:${TWELVE_ROOT}` : `^${TWELVE_VERSION}`;
}

/**
 * The target's own packages (twelve's optional peers: the AWS SDK clients, or wrangler and
 * miniflare) go into the app, and Node 22 when the Node running init is older than twelve
 * needs. Returns whether it was.
 */
function addDevDependencies(file: string, packages: readonly string[]): boolean {
  const manifest = JSON.parse(fs.readFileSync(file, "utf8")) as { devDependencies?: Record<string, string> };
  const dev: Record<string, string> = { ...manifest.devDependencies };
  for (const name of packages) dev[name] = peerRange(name);
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  const [neededMajor = 0, neededMinor = 0] = NODE_NEEDED;
  const oldNode = major < neededMajor || (major === neededMajor && minor < neededMinor);
  if (oldNode) dev.node = `^${NODE_NEEDED.join(".")}.0`;
  manifest.devDependencies = Object.fromEntries(Object.entries(dev).sort(([a], [b]) => a.localeCompare(b)));
  fs.writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
  return oldNode;
}

function copyTemplate(from: string, to: string, replacements: Record<string, string>, prefix = ""): string[] {
  fs.mkdirSync(to, { recursive: true });
  const written: string[] = [];
  for (const entry of fs.readdirSync(from, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const name = RENAMES[entry.name] ?? entry.name;
    if (entry.isDirectory()) {
      written.push(...copyTemplate(path.join(from, entry.name), path.join(to, name), replacements, `${prefix}${name}/`));
      continue;
    }
    let text = fs.readFileSync(path.join(from, entry.name), "utf8");
    for (const [placeholder, value] of Object.entries(replacements)) text = text.replaceAll(placeholder, value);
    fs.writeFileSync(path.join(to, name), text);
    written.push(`${prefix}${name}`);
  }
  return written;
}
