import fs from "node:fs/promises";
import path from "node:path";
import type { Formation } from "../formation/types.ts";

/** The declaration file `twelve types` writes, beside twelve.config.ts (as SST's sst-env.d.ts). */
export const TYPES_FILE = "twelve-env.d.ts";

const TYPED_ENTRY = /\.(ts|tsx|mts|cts)$/;

/**
 * The declaration file that types send() and sendBatch() for this formation: it adds each
 * worker to the TwelveWorkers interface of "twelve" (module augmentation), its body taken from
 * the default export of the worker's entry by a type query. No type checker runs here: tsc or
 * the editor works the body out from the worker's code when it reads the file, so the file
 * changes only when the formation's workers or entries do.
 */
export function typesDeclaration(formation: Formation): string {
  const workers = formation.processes.filter((p) => p.type === "worker");
  const members = workers.map((worker) => {
    const key = JSON.stringify(worker.name);
    // A JavaScript entry declares no types (and importing it would be an error without allowJs).
    if (!TYPED_ENTRY.test(worker.entry)) return `    ${key}: unknown; // ${worker.entryAsWritten} is JavaScript: any body`;
    const from = path.relative(formation.root, worker.entry).split(path.sep).join("/");
    const specifier = from.startsWith(".") ? from : `./${from}`;
    return `    ${key}: import("twelve").BodyOf<typeof import(${JSON.stringify(specifier)}).default>;`;
  });
  return [
    `// Written by \`twelve types\` (and by twelve build and twelve dev) from ${path.basename(formation.configFile)}: do not edit.`,
    "// It types send() and sendBatch(): each worker's name, and the body its entry's default export",
    "// takes (defineWorker<Body>, or its schema's input). Commit it, so that tsc in CI checks",
    "// messages without running twelve first.",
    "export {};",
    "",
    'declare module "twelve" {',
    "  interface TwelveWorkers {",
    ...members,
    "  }",
    "}",
    "",
  ].join("\n");
}

/**
 * Writes the declaration file into the app if its text changed (an unchanged file is left
 * alone, so an editor or `tsc --watch` does not recheck for nothing). Returns its path and
 * whether it was written.
 */
export async function writeTypes(formation: Formation): Promise<{ file: string; written: boolean }> {
  const file = path.join(formation.root, TYPES_FILE);
  const text = typesDeclaration(formation);
  const current = await fs.readFile(file, "utf8").catch(() => undefined);
  if (current === text) return { file, written: false };
  // Beside it, then renamed: an editor reading it never sees half a file.
  const temporary = `${file}.${process.pid}.tmp`;
  await fs.writeFile(temporary, text);
  await fs.rename(temporary, file);
  return { file, written: true };
}
