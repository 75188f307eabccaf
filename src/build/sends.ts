import fs from "node:fs";
import path from "node:path";

/** A send() call found in a process's own source. */
export interface SendCall {
  /** The worker named by a string literal, or undefined when the name is computed. */
  worker: string | undefined;
  file: string;
  line: number;
}

const IMPORT = /import\s*(?:type\s+)?\{([^}]*)\}\s*from\s*["']twelve(?:\/runtime)?["']/g;
const NAMESPACE = /import\s*\*\s*as\s+([A-Za-z_$][\w$]*)\s+from\s*["']twelve(?:\/runtime)?["']/g;

/**
 * Finds send() calls in the files of a process's bundle, so that a name that is not a worker
 * fails the build, and a process gets producer bindings (Cloudflare) or queue permissions (AWS)
 * only for the workers it sends to. A text scan, not a parse: it reads imports of `send` from
 * "twelve" (also renamed, or through `import * as`) and the first argument of each call.
 */
export function findSendCalls(files: readonly string[]): SendCall[] {
  const calls: SendCall[] = [];
  for (const file of files) {
    const source = fs.readFileSync(file, "utf8");
    for (const callee of sendCallees(source)) {
      const call = new RegExp(`(?<![\\w$.])${callee.replace(/[.$]/g, "\\$&")}\\s*\\(\\s*(?:(["'])([^"'\\\\\\n]*)\\1\\s*[,)]|(\`)([^\`$\\\\]*)\`\\s*[,)])?`, "g");
      for (const match of source.matchAll(call)) {
        calls.push({ worker: match[2] ?? match[4], file, line: lineOf(source, match.index) });
      }
    }
  }
  return calls;
}

function sendCallees(source: string): string[] {
  const callees: string[] = [];
  for (const match of source.matchAll(IMPORT)) {
    for (const spec of (match[1] ?? "").split(",")) {
      const [imported, local] = spec.trim().replace(/^type\s+/, "").split(/\s+as\s+/);
      if (imported === "send") callees.push((local ?? imported).trim());
    }
  }
  for (const match of source.matchAll(NAMESPACE)) callees.push(`${match[1]}.send`);
  return callees;
}

function lineOf(source: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (source.charCodeAt(i) === 10) line++;
  return line;
}

/** The workers a process may send to: the literal names, or all workers if any name is computed. */
export function sendTargets(calls: readonly SendCall[], workers: readonly string[]): string[] {
  if (calls.some((c) => c.worker === undefined)) return [...workers];
  return [...new Set(calls.map((c) => c.worker as string))].filter((w) => workers.includes(w)).sort();
}

export function describeCall(call: SendCall, root: string): string {
  return `${path.relative(root, call.file)}:${call.line}`;
}
