import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findSendCalls, sendTargets } from "../../src/build/sends.ts";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "twelve-sends-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  fs.writeFileSync(path.join(dir, name), text);
  return path.join(dir, name);
};

describe("findSendCalls", () => {
  it("finds literal names, renamed and namespace imports, with their lines", () => {
    const calls = findSendCalls([
      file("a.ts", 'import { defineWorker, send } from "twelve";\nawait send("mailer", {});\nawait send(\n  \'audit\', 1);\n'),
      file("b.ts", 'import { send as enqueue } from "twelve/runtime";\nenqueue(`billing`, {})\n'),
      file("c.ts", 'import * as twelve from "twelve";\ntwelve.send("mailer", null);\n'),
    ]);
    expect(calls.map((c) => [path.basename(c.file), c.line, c.worker])).toEqual([
      ["a.ts", 2, "mailer"], ["a.ts", 3, "audit"], ["b.ts", 2, "billing"], ["c.ts", 2, "mailer"],
    ]);
  });

  it("a computed name is found as unknown, and then the process may send to every worker", () => {
    const calls = findSendCalls([file("d.ts", 'import { send } from "twelve";\nconst to = pick();\nsend(to, {});\nsend(`${to}-x`, {});\n')]);
    expect(calls.map((c) => c.worker)).toEqual([undefined, undefined]);
    expect(sendTargets(calls, ["jobs", "mailer"])).toEqual(["jobs", "mailer"]);
  });

  it("ignores other functions called send and files that don't import twelve's send", () => {
    expect(findSendCalls([file("e.ts", 'import { send } from "./mail.ts";\nsend("web");\n'), file("f.ts", 'import { send } from "twelve";\nsocket.send("x"); resend("y");\n')])).toEqual([]);
  });

  it("sendTargets keeps the literal workers once, sorted", () => {
    const calls = findSendCalls([file("g.ts", 'import { send } from "twelve";\nsend("mailer");send("jobs");send("mailer");\n')]);
    expect(sendTargets(calls, ["jobs", "mailer", "other"])).toEqual(["jobs", "mailer"]);
  });
});
