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
  it("finds literal names, renamed and namespace imports, with their lines", async () => {
    const calls = await findSendCalls([
      file("a.ts", 'import { defineWorker, send } from "twelve";\nawait send("mailer", {});\nawait send(\n  \'audit\', 1);\n'),
      file("b.ts", 'import { send as enqueue } from "twelve/runtime";\nenqueue(`billing`, {})\n'),
      file("c.ts", 'import * as twelve from "twelve";\ntwelve.send("mailer", null);\n'),
    ]);
    expect(calls.map((c) => [path.basename(c.file), c.line, c.worker])).toEqual([
      ["a.ts", 2, "mailer"], ["a.ts", 3, "audit"], ["b.ts", 2, "billing"], ["c.ts", 2, "mailer"],
    ]);
  });

  it("sendBatch() names its worker as send() does: the process gets that worker's queue", async () => {
    const calls = await findSendCalls([
      file("batch.ts", 'import { sendBatch } from "twelve";\nawait sendBatch("mailer", [{}, {}]);\n'),
      file("batch-ns.ts", 'import * as twelve from "twelve";\nawait twelve.sendBatch("audit", []);\n'),
    ]);
    expect(calls.map((c) => [path.basename(c.file), c.line, c.worker])).toEqual([["batch.ts", 2, "mailer"], ["batch-ns.ts", 2, "audit"]]);
    expect(sendTargets(calls, ["audit", "jobs", "mailer"])).toEqual(["audit", "mailer"]);
  });

  it("a computed name is found as unknown, and then the process may send to every worker", async () => {
    const calls = await findSendCalls([file("d.ts", 'import { send } from "twelve";\nconst to = pick();\nsend(to, {});\nsend(`${to}-x`, {});\n')]);
    expect(calls.map((c) => c.worker)).toEqual([undefined, undefined]);
    expect(sendTargets(calls, ["jobs", "mailer"])).toEqual(["jobs", "mailer"]);
  });

  it("ignores other functions called send and files that don't import twelve's send", async () => {
    expect(await findSendCalls([file("e.ts", 'import { send } from "./mail.ts";\nsend("web");\n'), file("f.ts", 'import { send } from "twelve";\nsocket.send("x"); resend("y");\n')])).toEqual([]);
  });

  it("does not take a commented-out call, or send( in a string or template text, for a call", async () => {
    const calls = await findSendCalls([
      file("h.ts", 'import { send } from "twelve";\n// send("billing", x)\n/* send("audit", y)\n   send(to, z) */\nconst help = \'call send("jobs", data)\';\nconst more = `or send(${"name"}, data) later`;\nexport { help, more };\n'),
    ]);
    expect(calls).toEqual([]);
    expect(sendTargets(calls, ["jobs", "billing"])).toEqual([]);
  });

  it("reports the line in the file itself, past types, interfaces, blank lines and comments", async () => {
    const source = [
      'import { send, type Message } from "twelve";',
      "",
      "interface Order {",
      "  id: string;",
      "  lines: Array<{ sku: string; count: number }>;",
      "}",
      "",
      "type Total = { amount: number };",
      "",
      "",
      "// Not yet: send(\"billing\", order) once the invoices exist.",
      "export async function place(order: Order, total: Total): Promise<void> {",
      "  const message: Message = { order, total } as unknown as Message;",
      "  await send<Message>(\"mailer\", message);",
      "}",
      "",
    ].join("\n");
    expect((await findSendCalls([file("i.ts", source)])).map((c) => [c.line, c.worker])).toEqual([[14, "mailer"]]);
  });

  it("follows renamed and namespace imports, and names given as a template literal", async () => {
    const calls = await findSendCalls([
      file("j.mts", 'import { send as queue } from "twelve/runtime";\nconst x: number = 1;\nqueue(`billing`, x);\n'),
      file("k.ts", 'import * as t from "twelve";\nt.defineWorker;\nt.send("mailer", {});\nt["send"](\n  `audit`, {});\n'),
    ]);
    expect(calls.map((c) => [path.basename(c.file), c.line, c.worker])).toEqual([
      ["j.mts", 3, "billing"], ["k.ts", 3, "mailer"], ["k.ts", 4, "audit"],
    ]);
  });

  it("a send it cannot follow (passed on, re-exported, spread) counts as a computed name", async () => {
    const calls = await findSendCalls([
      file("l.ts", 'import { send } from "twelve";\nconst names: string[] = [];\nnames.forEach((n) => send(n, {}));\n["a"].map(send);\nexport { send as enqueue };\n'),
      file("m.ts", 'export { send } from "twelve";\nexport * from "twelve/runtime";\n'),
      file("n.ts", 'import * as twelve from "twelve";\nconst args = ["jobs", {}] as const;\ntwelve.send(...args);\nconst { send: s } = twelve;\n'),
    ]);
    // esbuild writes an `export { }` clause anew, without a mapping: its line is not asserted.
    expect(calls.map((c) => [path.basename(c.file), c.worker])).toEqual([
      ["l.ts", undefined], ["l.ts", undefined], ["l.ts", undefined], ["m.ts", undefined], ["m.ts", undefined], ["n.ts", undefined], ["n.ts", undefined],
    ]);
    expect([0, 1, 4, 5, 6].map((i) => calls[i]?.line)).toEqual([3, 4, 2, 3, 4]);
  });

  it("twelve loaded as a value, by import() or require(), may send anywhere", async () => {
    const calls = await findSendCalls([
      file("v.mjs", 'const { send } = await import("twelve");\nawait send("jobs", {});\n'),
      file("w.cjs", 'const twelve = require("twelve/runtime");\ntwelve.send("jobs", {});\n'),
    ]);
    expect(calls.map((c) => [path.basename(c.file), c.line, c.worker])).toEqual([["v.mjs", 1, undefined], ["w.cjs", 1, undefined]]);
  });

  it("a type-only import of send is not a call", async () => {
    expect(await findSendCalls([
      file("o.ts", 'import type { send } from "twelve";\nexport type Send = typeof send;\n'),
      file("p.ts", 'import { type send } from "twelve";\nexport const f: typeof send = (() => {}) as never;\n'),
    ])).toEqual([]);
  });

  it("reads TSX and JSX", async () => {
    const tsx = file("q.tsx", [
      'import { send } from "twelve";',
      "type Props = { name: string };",
      "const Hello = ({ name }: Props) => <p title={`send(${name})`}>send(\"x\") {name}</p>;",
      "",
      'export const go = <T,>(x: T) => send("mailer", { x, page: <Hello name="a" /> });',
      "",
    ].join("\n"));
    const jsx = file("r.jsx", 'import { send } from "twelve";\nexport const Button = () => <button onClick={() => send("jobs", {})}>go</button>;\n');
    expect((await findSendCalls([tsx, jsx])).map((c) => [path.basename(c.file), c.line, c.worker])).toEqual([["q.tsx", 5, "mailer"], ["r.jsx", 2, "jobs"]]);
  });

  it("skips files that are not code, and files that do not parse, without throwing", async () => {
    expect(await findSendCalls([
      file("s.json", '{ "send": "send(\\"x\\")" }'),
      file("t.ts", "export const broken = (;\n"),
    ])).toEqual([]);
    // Bundling reports the syntax error; should it not (other settings), this file may send anywhere.
    const unread = file("u.ts", 'import { send } from "twelve";\nsend("jobs",\n');
    expect(await findSendCalls([unread])).toEqual([{ worker: undefined, file: unread, line: 1 }]);
  });

  it("sendTargets keeps the literal workers once, sorted", async () => {
    const calls = await findSendCalls([file("g.ts", 'import { send } from "twelve";\nsend("mailer");send("jobs");send("mailer");\n')]);
    expect(sendTargets(calls, ["jobs", "mailer", "other"])).toEqual(["jobs", "mailer"]);
  });
});
