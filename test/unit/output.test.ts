import { describe, expect, it } from "vitest";
import { colorWanted, Output } from "../../src/cli/output.ts";

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
