import fs from "node:fs/promises";
import path from "node:path";
import type { AnyNode, Expression, Program } from "acorn";
import type { Loader } from "esbuild";
import { fileCache, TextAnswers, type FileCache } from "./cache.ts";
import { esbuild } from "./esbuild.ts";
import type { Problem } from "../formation/problems.ts";
import type { Process } from "../formation/types.ts";
import { HANDLERS } from "../runtime/module.ts";

const LOADERS: Record<string, Loader> = {
  ".ts": "ts", ".mts": "ts", ".cts": "ts", ".tsx": "tsx",
  ".js": "js", ".mjs": "js", ".cjs": "js", ".jsx": "jsx",
};
/** What twelve's define helpers give: defineWorker(...) has queue, defineClock(...) has scheduled. */
const DEFINERS: Record<string, string> = { defineWorker: "queue", defineClock: "scheduled" };

/**
 * A process whose entry has no default export, or whose default export plainly lacks the
 * handler of its type (`export default { hello() {} }` for a web, defineWorker(...) for a
 * clock), is a problem found before anything runs: otherwise it builds, and fails only once it
 * is loaded. Read from the entry file itself (esbuild strips the types, acorn parses), so it
 * needs no build: twelve reports it with the config's other problems. Only what the text
 * decides is judged; an export made at run time (`export default new Hono()`,
 * `export default makeApp()`) is checked when the module loads, by the wrapper's
 * requireHandler (src/runtime/module.ts). An entry that does not parse is left to the bundler,
 * which reports the syntax error with its line.
 */
export async function handlerProblems(processes: readonly Process[], options: { cacheRoot?: string } = {}): Promise<(Problem | undefined)[]> {
  const cache = options.cacheRoot === undefined ? undefined : fileCache<EntryFacts>(options.cacheRoot, "entries", import.meta.url);
  const problems = await Promise.all(processes.map(async (process) => problemOf(process, await factsOf(process.entry, cache))));
  cache?.save();
  return problems;
}

/**
 * What an entry's text says of its default export: none, one the text cannot judge, or one
 * with these handler keys (undefined keys: the text cannot tell which). "unparsed": not a
 * module twelve reads, or one that does not parse (the bundler reports that).
 */
type EntryFacts = { default: "unparsed" | "none" | "unknown" } | { default: "found"; keys: string[] | null };

function problemOf(process: Process, facts: EntryFacts): Problem | undefined {
  const { key, shape } = HANDLERS[process.type];
  const where = { path: `processes.${process.name}.entry` };
  if (facts.default !== "found") {
    return facts.default === "none" ? { ...where, message: `${process.entryAsWritten} has no default export; export default ${shape}` } : undefined;
  }
  if (facts.keys === null || facts.keys.includes(key)) return undefined;
  return { ...where, message: `${process.entryAsWritten} has no ${key} handler${describeKeys(process, facts.keys)}: export default ${shape}` };
}

/** What each entry says: a build checks what loading the config just did. */
const entries = new TextAnswers<EntryFacts>();

async function factsOf(file: string, cache: FileCache<EntryFacts> | undefined): Promise<EntryFacts> {
  const loader = LOADERS[path.extname(file)];
  if (!loader) return { default: "unparsed" };
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch {
    return { default: "unparsed" };
  }
  return entries.answer(file, text, loader, cache, () => parseFacts(file, text, loader));
}

async function parseFacts(file: string, text: string, loader: Loader): Promise<EntryFacts> {
  let program: Program;
  try {
    // es2024, as the bundles, also lowers decorators, which acorn does not parse.
    const [{ code }, { parse }] = await Promise.all([
      esbuild.transform(text, { loader, target: "es2024", sourcefile: file, logLevel: "silent" }),
      import("acorn"),
    ]);
    program = parse(code, { ecmaVersion: "latest", sourceType: "module" });
  } catch {
    return { default: "unparsed" };
  }
  const found = defaultExport(program);
  if (found === "none" || found === "unknown") return { default: found };
  return { default: "found", keys: handlerKeys(program, found) ?? null };
}

/** What the module exports as default: the node, "none" (an ES module without one), or "unknown". */
function defaultExport(program: Program): AnyNode | "none" | "unknown" {
  let esm = false;
  for (const statement of program.body) {
    if (statement.type === "ImportDeclaration" || statement.type === "ExportAllDeclaration") esm = true;
    if (statement.type === "ExportDefaultDeclaration") return statement.declaration;
    if (statement.type === "ExportAllDeclaration" && statement.exported && nameOf(statement.exported) === "default") return "unknown";
    if (statement.type !== "ExportNamedDeclaration") continue;
    esm = true;
    for (const spec of statement.specifiers) {
      if (nameOf(spec.exported) !== "default") continue;
      // `export { default } from "./app"`: what it is lives in another module.
      return statement.source ? "unknown" : spec.local;
    }
  }
  // A CommonJS module's default is its module.exports, which only running it shows.
  return esm ? "none" : "unknown";
}

/**
 * The handler names a default export plainly has, or undefined when the text cannot tell
 * (a spread, a computed key, a value made at run time, a variable used anywhere else, where it
 * may be given more keys).
 */
function handlerKeys(program: Program, node: AnyNode, depth = 0): string[] | undefined {
  switch (node.type) {
    case "ObjectExpression": {
      const keys: string[] = [];
      for (const property of node.properties) {
        if (property.type === "SpreadElement" || property.computed) return undefined;
        const name = nameOf(property.key);
        if (name === undefined) return undefined;
        keys.push(name);
      }
      return keys;
    }
    case "CallExpression": {
      const definer = node.callee.type === "Identifier" ? importedFromTwelve(program, node.callee.name) : undefined;
      const key = definer === undefined ? undefined : DEFINERS[definer];
      return key === undefined ? undefined : [key];
    }
    case "ArrowFunctionExpression":
      return [];
    case "FunctionExpression":
    case "FunctionDeclaration":
      // A named function may be given a handler later (`handler.fetch = ...`).
      return node.id && references(program, node.id.name) > 1 ? undefined : [];
    case "Literal":
    case "TemplateLiteral":
    case "ArrayExpression":
      return [];
    case "Identifier":
      return depth < 5 ? followConst(program, node.name, depth) : undefined;
    default:
      return undefined;
  }
}

/** `const app = { ... }`, named once and exported once: what the const holds. */
function followConst(program: Program, name: string, depth: number): string[] | undefined {
  for (const statement of program.body) {
    const declaration = statement.type === "ExportNamedDeclaration" ? statement.declaration : statement;
    if (declaration?.type === "FunctionDeclaration" && declaration.id.name === name) return handlerKeys(program, declaration, depth + 1);
    if (declaration?.type !== "VariableDeclaration" || declaration.kind !== "const") continue;
    for (const declarator of declaration.declarations) {
      if (declarator.id.type !== "Identifier" || declarator.id.name !== name || !declarator.init) continue;
      // Used beyond its declaration and the export: it may gain keys (app.fetch = ...).
      if (references(program, name) > 2) return undefined;
      return handlerKeys(program, declarator.init as Expression, depth + 1);
    }
  }
  return undefined;
}

/** The name `local` has in "twelve" when it is imported from there. */
function importedFromTwelve(program: Program, local: string): string | undefined {
  for (const statement of program.body) {
    if (statement.type !== "ImportDeclaration" || !["twelve", "twelve/runtime"].includes(String(statement.source.value))) continue;
    for (const spec of statement.specifiers) {
      if (spec.type === "ImportSpecifier" && spec.local.name === local) return nameOf(spec.imported);
    }
  }
  return undefined;
}

/** How many identifiers in the module are spelt `name` (declaration, export and uses alike). */
function references(program: Program, name: string): number {
  let count = 0;
  // A stack, not recursion: a long chain like a + b + c + ... is a deep tree.
  const stack: unknown[] = [program];
  while (stack.length) {
    const node = stack.pop();
    if (Array.isArray(node)) stack.push(...node);
    else if (node && typeof node === "object") {
      if ((node as AnyNode).type === "Identifier" && (node as { name: string }).name === name) count++;
      for (const [field, value] of Object.entries(node)) if (field !== "loc" && typeof value === "object") stack.push(value);
    }
  }
  return count;
}

function nameOf(node: AnyNode): string | undefined {
  if (node.type === "Identifier") return node.name;
  return node.type === "Literal" && typeof node.value === "string" ? node.value : undefined;
}

/** "(its default export has fetch, a web process's handler)", to point at a type set wrong. */
function describeKeys(process: Process, keys: string[]): string {
  const other = Object.entries(HANDLERS).find(([type, h]) => type !== process.type && keys.includes(h.key));
  if (other) return ` (its default export has ${other[1].key}, a ${other[0]} process's handler: is the process's type right?)`;
  return keys.length ? ` (its default export has ${keys.join(", ")})` : "";
}
