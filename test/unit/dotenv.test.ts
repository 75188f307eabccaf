import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { devSecrets, readDotEnv } from "../../src/dev/env.ts";
import type { Formation } from "../../src/formation/types.ts";

describe("secrets under twelve dev", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "twelve-env-"));
  fs.writeFileSync(
    path.join(dir, ".env"),
    ['# comment', 'export TOKEN=abc # trailing', 'QUOTED="two\\nlines"', "SINGLE='raw \\n'", "EMPTY=", "not a line", "URL=postgres://x@y/z?a=1#frag"].join("\n"),
  );

  it("reads .env lines: export, comments, quotes", () => {
    expect(readDotEnv(path.join(dir, ".env"))).toEqual({ TOKEN: "abc", QUOTED: "two\nlines", SINGLE: "raw \\n", EMPTY: "", URL: "postgres://x@y/z?a=1#frag" });
    expect(readDotEnv(path.join(dir, "missing.env"))).toEqual({});
  });

  it("takes the shell's value over .env's and names what is missing", () => {
    const formation = { root: dir, secrets: ["TOKEN", "QUOTED", "ABSENT"] } as unknown as Formation;
    expect(devSecrets(formation, { TOKEN: "from-shell" })).toEqual({ values: { TOKEN: "from-shell", QUOTED: "two\nlines" }, missing: ["ABSENT"] });
  });
});
