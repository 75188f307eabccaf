import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO, runTwelve } from "../support/cli.ts";
import { runProcess } from "../support/process.ts";
import { copyFixture, removeProject } from "../support/project.ts";

const TSC = path.join(REPO, "node_modules", ".bin", "tsc");

/**
 * `twelve types` on a fixture app (test/fixtures/typed-app: a worker typed by defineWorker<Email>,
 * one by a zod schema, one by a MessageBatch<...> annotation), then the real tsc on the app: a
 * right call compiles; a wrong name or a wrong body fails, and the error names the worker.
 */
describe("twelve types: send() and sendBatch() typed by the formation", () => {
  let dir: string;
  // tsc with related information (where a property's expected type comes from), as editors show it.
  const tsc = async () => {
    const result = await runProcess(TSC, ["--noEmit", "-p", dir, "--pretty"], { cwd: dir, env: { ...process.env, NO_COLOR: "1" } });
    return { code: result.code, text: (result.stdout + result.stderr).replace(/\x1b\[[0-9;]*m/g, "") };
  };
  const withFile = async (name: string, text: string) => {
    fs.writeFileSync(path.join(dir, "src", name), text);
    try {
      return await tsc();
    } finally {
      fs.rmSync(path.join(dir, "src", name));
    }
  };

  beforeAll(() => {
    dir = copyFixture("typed-app");
    // As the template's tsconfig, with "twelve" resolved to this checkout's source.
    fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({
      compilerOptions: {
        target: "es2023", module: "nodenext", moduleResolution: "nodenext", lib: ["es2023", "dom", "dom.iterable"], types: [],
        strict: true, skipLibCheck: true, noEmit: true, allowImportingTsExtensions: true,
        paths: { twelve: [path.join(REPO, "src/index.ts")], "twelve/runtime": [path.join(REPO, "src/runtime/index.ts")] },
      },
      include: ["src", "twelve.config.ts", "twelve-env.d.ts"],
    }));
  });
  afterAll(() => removeProject(dir));

  it("writes twelve-env.d.ts beside twelve.config.ts, and leaves it alone when nothing changed", async () => {
    const first = await runTwelve(["types"], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain("Wrote twelve-env.d.ts (send() and sendBatch() typed for mailer, signup, raw)");
    const text = fs.readFileSync(path.join(dir, "twelve-env.d.ts"), "utf8");
    expect(text).toContain('declare module "twelve" {');
    expect(text).toContain('"mailer": import("twelve").BodyOf<typeof import("./src/mailer.ts").default>;');
    const again = await runTwelve(["types", "--json"], { cwd: dir });
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, written: false, workers: ["mailer", "signup", "raw"] });
  });

  it("right calls compile: each worker's body, a schema's input, sendBatch, through twelve and twelve/runtime", async () => {
    const result = await tsc();
    expect(result.text).toBe("");
    expect(result.code).toBe(0);
  });

  it("a name that is not a worker fails, listing the workers", async () => {
    const result = await withFile("wrong-name.ts", 'import { send } from "twelve";\nexport const f = () => send("mailr", { to: "a@example.com", subject: "hi" });\n');
    expect(result.code).not.toBe(0);
    expect(result.text).toContain(`Argument of type '"mailr"' is not assignable to parameter of type '"mailer" | "raw" | "signup"'`);
  });

  it("a body of the wrong shape fails, naming the worker whose body it is", async () => {
    const wrongField = await withFile("wrong-body.ts", 'import { send } from "twelve";\nexport const f = () => send("mailer", { to: 42, subject: "hi" });\n');
    expect(wrongField.code).not.toBe(0);
    expect(wrongField.text).toContain("Type 'number' is not assignable to type 'string'");
    expect(wrongField.text).toContain(`The expected type comes from property 'to' which is declared here on type 'BodyFor<"mailer", Email>'`);

    const missing = await withFile("wrong-batch.ts", 'import { sendBatch } from "twelve";\nexport const f = () => sendBatch("mailer", [{ to: "a", subject: "x" }, { to: "b" }]);\n');
    expect(missing.text).toContain(`Property 'subject' is missing in type '{ to: string; }' but required in type 'BodyFor<"mailer", Email>'`);

    // The schema's input type: age is sent as a string (the worker's handler gets a number).
    const schema = await withFile("wrong-schema.ts", 'import { send } from "twelve";\nexport const f = () => send("signup", { email: "a@example.com", age: 42 });\n');
    expect(schema.text).toContain(`declared here on type 'BodyFor<"signup", { email: string; age: string; }>'`);

    const raw = await withFile("wrong-raw.ts", 'import { send } from "twelve";\nexport const f = () => send("raw", { id: "7" });\n');
    expect(raw.text).toContain(`declared here on type 'BodyFor<"raw", { id: number; }>'`);
  });

  it("without the file, send() takes any name and any body, as before", async () => {
    fs.renameSync(path.join(dir, "twelve-env.d.ts"), path.join(dir, "twelve-env.d.ts.off"));
    try {
      const result = await withFile("untyped.ts", 'import { send } from "twelve";\nexport const f = (name: string) => [send("mailr", 1), send(name, { any: "thing" })];\n');
      expect(result.text).toBe("");
    } finally {
      fs.renameSync(path.join(dir, "twelve-env.d.ts.off"), path.join(dir, "twelve-env.d.ts"));
    }
  });

  it("twelve build writes it too, following the formation", async () => {
    fs.rmSync(path.join(dir, "twelve-env.d.ts"));
    const config = path.join(dir, "twelve.config.ts");
    fs.writeFileSync(config, fs.readFileSync(config, "utf8").replace("processes: {", 'processes: {\n    audit: { type: "worker", entry: "src/mailer.ts", concurrency: 2 },'));
    const built = await runTwelve(["build"], { cwd: dir });
    expect(built.code, built.stderr + built.stdout).toBe(0);
    const text = fs.readFileSync(path.join(dir, "twelve-env.d.ts"), "utf8");
    expect(text).toContain('"audit": import("twelve").BodyOf<typeof import("./src/mailer.ts").default>;');
    expect(text).toContain('"raw":');
  });
});
