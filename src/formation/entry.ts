import fs from "node:fs";
import path from "node:path";

const SOURCE_EXTENSIONS = [".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs"];

/**
 * What is wrong with a process's entry file, as the rest of a sentence naming it (it does not
 * exist, is not a file, cannot be read, is not a source file); undefined when nothing is. Apart
 * from the validator (and zod): a formation checked before needs only this again (config/load.ts).
 */
export function checkEntry(file: string): string | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    return `does not exist (looked for ${file})`;
  }
  if (!stat.isFile()) return `is not a file (${file})`;
  try {
    fs.accessSync(file, fs.constants.R_OK);
  } catch {
    return `cannot be read (${file}): check its permissions`;
  }
  if (!SOURCE_EXTENSIONS.includes(path.extname(file))) {
    return `is not a JavaScript or TypeScript file (expected one of ${SOURCE_EXTENSIONS.join(" ")})`;
  }
  return undefined;
}
