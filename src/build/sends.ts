import fs from "node:fs";
import { SourceMap } from "node:module";
import path from "node:path";
import type { AnyNode, Expression, MemberExpression, Position, Program, SpreadElement } from "acorn";
import type { Loader } from "esbuild";
import { fileCache, TextAnswers, type FileCache } from "./cache.ts";
import { esbuild } from "./esbuild.ts";

/** A send() call found in a process's own source. */
export interface SendCall {
  /** The worker named by a string literal, or undefined when the name is computed. */
  worker: string | undefined;
  file: string;
  line: number;
}

const LOADERS: Record<string, Loader> = {
  ".ts": "ts", ".mts": "ts", ".cts": "ts", ".tsx": "tsx",
  ".js": "js", ".mjs": "js", ".cjs": "js", ".jsx": "jsx",
};
const TWELVE = ["twelve", "twelve/runtime"];
/** twelve's functions that enqueue to the worker named by their first argument. */
const SENDERS = new Set(["send", "sendBatch"]);
/** A file that never names twelve cannot call its send: no need to parse it. */
const NAMES_TWELVE = /["'`]twelve(\/runtime)?["'`]/;

/**
 * Finds send() calls in the files of a process's bundle, so that a name that is not a worker
 * fails the build, and a process gets producer bindings (Cloudflare) or queue permissions (AWS)
 * only for the workers it sends to. A parse, not a text scan: comments and strings that spell
 * send("x") are not calls. Each file goes through esbuild (types out, JSX lowered, imports
 * kept) and acorn; lines are those of the file itself, read back through esbuild's source map.
 * esbuild's async API: it reuses the service the bundling started, where a sync call would
 * start a second one (a worker thread and an esbuild process, about 100 ms a build).
 */
export async function findSendCalls(files: readonly string[], options: { cacheRoot?: string } = {}): Promise<SendCall[]> {
  const cache = options.cacheRoot === undefined ? undefined : fileCache<CachedCall[]>(options.cacheRoot, "sends", import.meta.url);
  const calls = await Promise.all(files.map((file) => {
    const loader = LOADERS[path.extname(file)];
    return loader ? callsIn(file, loader, cache) : [];
  }));
  cache?.save();
  return calls.flat();
}

/** A call as the cache keeps it: what the text says, which is the same at any path. */
type CachedCall = Omit<SendCall, "file">;

/** The calls in each file: a file shared by processes is read once. */
const files = new TextAnswers<CachedCall[]>();

function callsIn(file: string, loader: Loader, cache: FileCache<CachedCall[]> | undefined): Promise<SendCall[]> | SendCall[] {
  let source: string;
  try {
    source = fs.readFileSync(file, "utf8");
  } catch {
    return [];
  }
  if (!NAMES_TWELVE.test(source)) return [];
  return files.answer(file, source, loader, cache, () => parseCalls(file, source, loader)).then((calls) => calls.map((call) => ({ ...call, file })));
}

async function parseCalls(file: string, source: string, loader: Loader): Promise<CachedCall[]> {
  try {
    // es2024, the bundles' own target, also lowers decorators, which acorn does not parse.
    const [{ code, map }, { parse }] = await Promise.all([
      esbuild.transform(source, { loader, format: "esm", target: "es2024", sourcemap: "external", sourcefile: file, logLevel: "silent" }),
      import("acorn"),
    ]);
    const program = parse(code, { ecmaVersion: "latest", sourceType: "module", locations: true });
    const originalLine = lineMapper(map);
    return sendUses(program).map((use) => ({ worker: use.worker, line: originalLine(use.at) }));
  } catch {
    // Not an error here: esbuild reports a syntax error, with its file and line, when it bundles.
    // The build bundles first, though, so this is likely a file the bundler read with the
    // project's tsconfig (parameter decorators, say): if it names twelve, it may send anywhere.
    return [{ worker: undefined, line: 1 }];
  }
}

interface SendUse {
  /** The literal worker name, or undefined when it is computed or the call can't be followed. */
  worker: string | undefined;
  at: Position;
  offset: number;
}

/**
 * The calls of twelve's send in a module: through `import { send }` (also renamed) or
 * `import * as t` and `t.send(...)`. Wherever send goes where it can't be followed (passed on
 * as a value, re-exported, `t` itself passed on, `import("twelve")`), the use counts as a call
 * with a computed name, so the process may send to every worker rather than to too few.
 * (esbuild writes `export { send } from "twelve"` as an import and an `export { send }`.)
 * Shadowing is ignored: a local function or parameter named like the import is taken for it.
 */
function sendUses(program: Program): SendUse[] {
  const names = new Set<string>();
  const namespaces = new Set<string>();
  for (const statement of program.body) {
    if (statement.type !== "ImportDeclaration" || !isTwelve(statement.source)) continue;
    for (const spec of statement.specifiers) {
      if (spec.type === "ImportNamespaceSpecifier") namespaces.add(spec.local.name);
      else if (spec.type === "ImportSpecifier" && SENDERS.has(nameOf(spec.imported) ?? "")) names.add(spec.local.name);
    }
  }

  const uses: SendUse[] = [];
  const use = (node: AnyNode, worker?: string) => uses.push({ worker, at: (node.loc as { start: Position }).start, offset: node.start });
  // Identifiers already accounted for by the call or member expression above them.
  const seen = new Set<AnyNode>();
  walk(program, (node, parent) => {
    switch (node.type) {
      case "ImportDeclaration":
        return false;
      case "ExportAllDeclaration":
        if (isTwelve(node.source)) use(node);
        return false;
      case "ImportExpression":
        if (isTwelve(node.source)) use(node);
        return true;
      case "CallExpression": {
        const { callee } = node;
        if (callee.type === "Identifier" && callee.name === "require" && node.arguments[0] && isTwelve(node.arguments[0])) use(node);
        const direct = callee.type === "Identifier" && names.has(callee.name);
        const member = callee.type === "MemberExpression" && isNamespace(callee.object) && SENDERS.has(memberName(callee) ?? "");
        if (!direct && !member) return true;
        seen.add(callee);
        if (callee.type === "MemberExpression") seen.add(callee.object);
        use(node, literalName(node.arguments[0]));
        return true;
      }
      case "MemberExpression":
        if (seen.has(node) || !isNamespace(node.object)) return true;
        seen.add(node.object);
        // t.defineWorker is fine; t.send not called, or t[name], may be send gone elsewhere.
        if (memberName(node) === undefined || SENDERS.has(memberName(node) as string)) use(node);
        return true;
      case "Identifier":
        if (!seen.has(node) && (names.has(node.name) || namespaces.has(node.name)) && isReference(node, parent)) use(node);
        return true;
      default:
        return true;
    }
  });
  return uses.sort((a, b) => a.offset - b.offset);

  function isNamespace(node: AnyNode): boolean {
    return node.type === "Identifier" && namespaces.has(node.name);
  }
}

function isTwelve(node: AnyNode): boolean {
  return node.type === "Literal" && typeof node.value === "string" && TWELVE.includes(node.value);
}

function nameOf(node: AnyNode): string | undefined {
  if (node.type === "Identifier") return node.name;
  return node.type === "Literal" && typeof node.value === "string" ? node.value : undefined;
}

/** `t.send` and `t["send"]` give "send"; `t[name]` gives undefined. */
function memberName(node: MemberExpression): string | undefined {
  return node.computed ? (node.property.type === "Literal" ? nameOf(node.property) : undefined) : nameOf(node.property);
}

/** "x" and `x` name a worker; anything else (`${a}`, a variable, a spread, nothing) is computed. */
function literalName(arg: Expression | SpreadElement | undefined): string | undefined {
  if (arg?.type === "Literal" && typeof arg.value === "string") return arg.value;
  if (arg?.type === "TemplateLiteral" && arg.expressions.length === 0) return arg.quasis[0]?.value.cooked ?? undefined;
  return undefined;
}

/** False where an identifier is a name but not the variable: `a.send`, `{ send: 1 }`, labels. */
function isReference(node: AnyNode, parent: AnyNode | undefined): boolean {
  switch (parent?.type) {
    case "MemberExpression":
      return parent.computed || parent.property !== node;
    case "Property":
    case "MethodDefinition":
    case "PropertyDefinition":
      return parent.computed || parent.key !== node;
    case "ExportSpecifier":
      return parent.local === node;
    case "LabeledStatement":
    case "BreakStatement":
    case "ContinueStatement":
      return false;
    default:
      return true;
  }
}

/** Visits every node, each before its children; `visit` returning false skips the children. */
function walk(root: AnyNode, visit: (node: AnyNode, parent: AnyNode | undefined) => boolean) {
  // A stack, not recursion: a long chain like a + b + c + ... is a deep tree.
  const stack: Array<[AnyNode, AnyNode | undefined]> = [[root, undefined]];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [node, parent] = next;
    if (!visit(node, parent)) continue;
    // A Set: in `export { a }` acorn gives `local` and `exported` the same node.
    const children = new Set(Object.values(node).flat().filter(isNode));
    for (const child of children) stack.push([child, node]);
  }
}

function isNode(value: unknown): value is AnyNode {
  return typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string";
}

/**
 * Reads a source map into a function from a generated position (1-based line, 0-based column,
 * as acorn gives them) to the original 1-based line: the line of the last mapping at or before
 * the position. A call always has a mapping of its own; code esbuild writes anew (an
 * `export { }` clause) has none and takes the line before it.
 */
function lineMapper(map: string): (at: Position) => number {
  const sourceMap = new SourceMap(JSON.parse(map) as ConstructorParameters<typeof SourceMap>[0]);
  return (at) => {
    const entry = sourceMap.findEntry(at.line - 1, at.column) as { originalLine?: number };
    return entry.originalLine === undefined ? at.line : entry.originalLine + 1;
  };
}

/** The workers a process may send to: the literal names, or all workers if any name is computed. */
export function sendTargets(calls: readonly SendCall[], workers: readonly string[]): string[] {
  if (calls.some((c) => c.worker === undefined)) return [...workers];
  return [...new Set(calls.map((c) => c.worker as string))].filter((w) => workers.includes(w)).sort();
}

export function describeCall(call: SendCall, root: string): string {
  return `${path.relative(root, call.file)}:${call.line}`;
}
