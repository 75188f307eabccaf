import fs from "node:fs";
import path from "node:path";
import { TWELVE_ROOT } from "../build/twelve-paths.ts";
import { TWELVE_VERSION } from "../build/version.ts";
import { usageError } from "../errors.ts";
import { APP_PATTERN } from "../formation/names.ts";
import { TARGETS } from "../formation/types.ts";
import { globalFlags, parse } from "./args.ts";
import type { Command } from "./command.ts";
import { Output } from "./output.ts";

const TEMPLATE = path.join(TWELVE_ROOT, "templates", "default");
/** The GitHub Actions workflow for each target: plan on pull requests, deploy on push to main. */
export const WORKFLOWS = path.join(TWELVE_ROOT, "templates", "workflows");
const WORKFLOW_PATH = ".github/workflows/twelve.yml";
/** npm drops .gitignore from published packages, so the template keeps it without the dot. */
const RENAMES: Record<string, string> = { gitignore: ".gitignore" };

export const init: Command = {
  async run(args) {
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
    if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) {
      throw usageError(`${dir} is not empty; twelve init writes only into a new or empty directory`, "Choose another directory.");
    }

    const replacements: Record<string, string> = { __APP__: app, __TARGET__: target, __TWELVE__: twelveDependency() };
    const written = copyTemplate(TEMPLATE, dir, replacements);
    fs.mkdirSync(path.join(dir, path.dirname(WORKFLOW_PATH)), { recursive: true });
    fs.copyFileSync(path.join(WORKFLOWS, `${target}.yml`), path.join(dir, WORKFLOW_PATH));
    written.push(WORKFLOW_PATH);
    const shown = path.relative(process.cwd(), dir) || ".";
    out.line(`Created ${app} (${target}) in ${shown}: ${written.length} files`);
    for (const file of written) out.line(`  ${file}`);
    out.line("");
    out.line("Next:");
    if (shown !== ".") out.line(`  cd ${shown}`);
    out.line("  npm install");
    out.line("  npx twelve build");
    out.result({ ok: true, app, target, dir, files: written });
    return 0;
  },
};

/** A directory name made into an app name: lower case, hyphens, at most 31 characters. */
export function appNameFrom(name: string): string {
  const cleaned = name.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^[^a-z]+/, "").replace(/-+/g, "-");
  return cleaned.slice(0, 31).replace(/-+$/, "");
}

/** A released twelve is a version range; a checkout of twelve (not under node_modules) is linked. */
function twelveDependency(): string {
  return TWELVE_ROOT.split(path.sep).includes("node_modules") ? `^${TWELVE_VERSION}` : `file:${TWELVE_ROOT}`;
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
