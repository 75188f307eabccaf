import fs from "node:fs";
import path from "node:path";
import type { Formation, Process } from "../formation/types.ts";

/**
 * A .env file: KEY=value lines, `export ` allowed, # comments, single or double quotes
 * (double quotes understand \n). Values from the shell win over the file.
 */
export function readDotEnv(file: string): Record<string, string> {
  if (!fs.existsSync(file)) return {};
  const values: Record<string, string> = {};
  for (const raw of fs.readFileSync(file, "utf8").split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)?\s*$/.exec(raw);
    if (!match) continue;
    let value = (match[2] ?? "").trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1).replace(/\\n/g, "\n").replace(/\\"/g, '"');
    else if (value.startsWith("'") && value.endsWith("'") && value.length >= 2) value = value.slice(1, -1);
    else value = value.replace(/\s+#.*$/, "");
    values[match[1] as string] = value;
  }
  return values;
}

/** Secrets for twelve dev: the shell first, then .env beside the config; names not found. */
export function devSecrets(formation: Formation, shell: NodeJS.ProcessEnv = process.env): { values: Record<string, string>; missing: string[] } {
  const file = readDotEnv(path.join(formation.root, ".env"));
  const values: Record<string, string> = {};
  const missing: string[] = [];
  for (const name of formation.secrets) {
    const value = shell[name] ?? file[name];
    if (value === undefined) missing.push(name);
    else values[name] = value;
  }
  return { values, missing };
}

/** What a process's env holds: its variables and the formation's secrets. */
export function processVariables(process: Process, secrets: Record<string, string>): Record<string, string> {
  return { ...process.env, ...secrets };
}
