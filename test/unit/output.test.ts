import { describe, expect, it } from "vitest";
import { colorWanted, Output } from "../../src/cli/output.ts";
import { DevLog } from "../../src/dev/output.ts";
import { usageError } from "../../src/errors.ts";

describe("colour in twelve's output", () => {
  it("follows the terminal, NO_COLOR and FORCE_COLOR as Node reads them", () => {
    expect(colorWanted({}, true)).toBe(true);
    expect(colorWanted({}, false)).toBe(false);
    expect(colorWanted({ NO_COLOR: "1" }, true)).toBe(false);
    expect(colorWanted({ NO_COLOR: "" }, true)).toBe(true);
    expect(colorWanted({ FORCE_COLOR: "1" }, false)).toBe(true);
    expect(colorWanted({ FORCE_COLOR: "" }, false)).toBe(true);
    expect(colorWanted({ FORCE_COLOR: "0" }, true)).toBe(false);
    expect(colorWanted({ FORCE_COLOR: "false" }, true)).toBe(false);
    expect(colorWanted({ FORCE_COLOR: "1", NO_COLOR: "1" }, true)).toBe(false);
  });

  it("prints no escape codes with FORCE_COLOR=0, even on a terminal", () => {
    let printed = "";
    const stdout = Object.assign({ write: (text: string) => ((printed += text), true), isTTY: true }, {}) as unknown as NodeJS.WritableStream & { isTTY: boolean };
    const out = new Output({ json: false, verbose: false, stdout, env: { FORCE_COLOR: "0" } });
    out.line(out.bold("twelve"));
    expect(printed).toBe("twelve\n");
  });
});

describe("colour that stays on its line", () => {
  const capture = () => {
    let printed = "";
    const stream = { write: (text: string) => ((printed += text), true), isTTY: true } as unknown as NodeJS.WritableStream & { isTTY: boolean };
    return { stream, printed: () => printed };
  };

  it("a dim hint of two lines closes its code before each newline", () => {
    const { stream, printed } = capture();
    const out = new Output({ json: false, verbose: false, stdout: stream, stderr: stream, env: { FORCE_COLOR: "1" } });
    out.error(usageError("bad", "first line\nsecond line"));
    expect(printed().split("\n")).toEqual(["\u001b[31merror\u001b[0m bad", "\u001b[2mfirst line\u001b[0m", "\u001b[2msecond line\u001b[0m", ""]);
  });

  it("twelve dev's warn label is yellow, as note is; ready stays green", () => {
    const { stream, printed } = capture();
    const out = new Output({ json: false, verbose: false, stdout: stream, env: { FORCE_COLOR: "1" } });
    const log = new DevLog(out, ["web"]);
    log.event("warn", "secret X not set");
    log.event("ready", "web");
    expect(printed()).toContain("\u001b[1;33mwarn\u001b[0m secret X not set");
    expect(printed()).toContain("\u001b[1;32mready\u001b[0m web");
  });
});
