import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { deterministicZip, zipSha256Base64 } from "../../src/build/zip.ts";

const enc = new TextEncoder();
const files = [
  { name: "index.mjs", data: enc.encode("export const handler = async () => 'ok';\n".repeat(50)) },
  { name: "lib/ünïcode-名前.js", data: enc.encode("module.exports = '✓';\n") },
  { name: "empty.txt", data: new Uint8Array(0) },
  // Random bytes do not deflate, so this entry exercises the "store" path.
  { name: "blob.bin", data: Uint8Array.from({ length: 256 }, (_, i) => (i * 7919 + 13) % 251) },
];

const dir = mkdtempSync(join(tmpdir(), "twelve-zip-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("deterministicZip", () => {
  it("is byte-identical regardless of input order", async () => {
    const a = await deterministicZip(files);
    const b = await deterministicZip([...files].reverse());
    expect(Buffer.compare(a, b)).toBe(0);
    expect(zipSha256Base64(a)).toBe(zipSha256Base64(b));
  });

  it("rejects duplicate names", async () => {
    await expect(deterministicZip([files[0]!, files[0]!])).rejects.toThrow(/duplicate/);
  });

  it("produces an empty but valid archive for no files", async () => {
    expect((await deterministicZip([])).length).toBe(22);
  });

  it("opens with python zipfile: contents, names, mode, timestamp", async () => {
    const path = join(dir, "a.zip");
    writeFileSync(path, await deterministicZip(files));
    const script = [
      "import sys, zipfile, json, base64",
      "z = zipfile.ZipFile(sys.argv[1])",
      "print(json.dumps({'bad': z.testzip(), 'entries': [",
      "  {'name': i.filename, 'mode': i.external_attr >> 16, 'date': list(i.date_time),",
      "   'system': i.create_system, 'method': i.compress_type,",
      "   'data': base64.b64encode(z.read(i.filename)).decode()} for i in z.infolist()]}))",
    ].join("\n");
    const out = JSON.parse(execFileSync("python3", ["-c", script, path], { encoding: "utf8" })) as {
      bad: string | null;
      entries: { name: string; mode: number; date: number[]; system: number; method: number; data: string }[];
    };
    expect(out.bad).toBeNull();
    const sortedNames = files.map((f) => f.name).sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect(out.entries.map((e) => e.name)).toEqual(sortedNames);
    for (const e of out.entries) {
      const original = files.find((f) => f.name === e.name)!;
      expect(Buffer.from(e.data, "base64").equals(Buffer.from(original.data))).toBe(true);
      expect(e.mode).toBe(0o100644);
      expect(e.date).toEqual([1980, 1, 1, 0, 0, 0]);
      expect(e.system).toBe(3);
    }
    const methods = Object.fromEntries(out.entries.map((e) => [e.name, e.method]));
    expect(methods["index.mjs"]).toBe(8);
    expect(methods["blob.bin"]).toBe(0);
  });

  it("passes unzip -t", async () => {
    const path = join(dir, "b.zip");
    writeFileSync(path, await deterministicZip(files));
    const out = execFileSync("unzip", ["-t", path], { encoding: "utf8" });
    expect(out).toMatch(/No errors detected/);
  });

  it("a changed byte changes the hash", async () => {
    const base = zipSha256Base64(await deterministicZip(files));
    const data = Uint8Array.from(files[0]!.data);
    data[10] = data[10]! ^ 1;
    const changed = zipSha256Base64(await deterministicZip([{ ...files[0]!, data }, ...files.slice(1)]));
    expect(changed).not.toBe(base);
    expect(base).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });
});
