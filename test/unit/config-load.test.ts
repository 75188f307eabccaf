import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { adapters } from "../../adapters/index.ts";
import { loadConfig } from "../../src/config/load.ts";
import { makeProject, removeProject } from "../support/project.ts";

describe("loading twelve.config.ts", () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach(removeProject));

  it("gives the config and each file it imports their own import.meta.url, dirname and filename, not the bundled copy's", async () => {
    const dir = makeProject({
      "twelve.config.ts": [
        'import { readFileSync } from "node:fs";',
        'import { defineConfig } from "twelve";',
        'import { where } from "./config/where.ts";',
        'const extra = JSON.parse(readFileSync(new URL("./processes.json", import.meta.url), "utf8")) as { entry: string };',
        "export default defineConfig({",
        '  app: "meta",',
        '  target: "aws",',
        '  processes: { web: { type: "web", entry: extra.entry, concurrency: 1 } },',
        "  env: { CONFIG_DIR: import.meta.dirname, CONFIG_FILE: import.meta.filename, CONFIG_URL: import.meta.url, PART_DIR: where },",
        "});",
      ].join("\n"),
      "config/where.ts": "export const where: string = import.meta.dirname;\n",
      "processes.json": JSON.stringify({ entry: "web.ts" }),
      "web.ts": "export default { fetch: () => new Response('ok') };\n",
    });
    dirs.push(dir);
    const { formation, dependencies } = await loadConfig({ cwd: dir, adapters });
    const config = path.join(dir, "twelve.config.ts");
    expect(formation.processes[0]?.entry).toBe(path.join(dir, "web.ts"));
    expect(formation.processes[0]?.env).toEqual({ CONFIG_DIR: dir, CONFIG_FILE: config, CONFIG_URL: pathToFileURL(config).href, PART_DIR: path.join(dir, "config") });
    expect(dependencies.sort()).toEqual([path.join(dir, "config", "where.ts"), config]);
    // The bundled copy ran from .twelve/ and is gone.
    expect(fs.readdirSync(path.join(dir, ".twelve")).filter((f) => f.startsWith("config."))).toEqual([]);
  });

  it("keeps line numbers of a config that does not compile", async () => {
    const dir = makeProject({ "twelve.config.ts": 'export default {\n  app: "x",\n  processes: {{\n};\n' });
    dirs.push(dir);
    const error = await loadConfig({ cwd: dir, adapters }).then(() => undefined, (e: Error & { details: string[] }) => e);
    expect(error?.details[0]).toMatch(/^line 3:/);
  });
});
