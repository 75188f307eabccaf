import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTwelve } from "../support/cli.ts";
import { freePorts, startTwelveDev } from "../support/dev.ts";
import { makeProject, removeProject } from "../support/project.ts";

// Two twelve dev in one app folder would share the broker's journal and take each other's
// messages: the second must refuse at once, saying where the first one runs; a first one
// that died (kill -9) must not hold the folder.
const CONFIG = `import { defineConfig } from "twelve";
export default defineConfig({
  app: "locked",
  target: "aws",
  processes: { web: { type: "web", entry: "web.ts", concurrency: 2 } },
});
`;

describe("one twelve dev per app folder", () => {
  let dir: string;
  beforeAll(() => {
    dir = makeProject({ "twelve.config.ts": CONFIG, "web.ts": `export default { fetch: () => new Response("first") };\n` });
  });
  afterAll(() => removeProject(dir));

  it("a second twelve dev refuses, naming the first's pid and URL; the first keeps serving; a killed first holds nothing", { timeout: 90_000 }, async () => {
    const [port, other] = [await freePorts(1), await freePorts(1)];
    const first = startTwelveDev(dir, ["--port", String(port)]);
    await first.waitForLine(/ready locked on aws/, 45_000);

    const second = await runTwelve(["dev", "--port", String(other)], { cwd: dir });
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`twelve dev is already running for this app (pid ${first.child.pid}, serving http://localhost:${port}`);
    expect(second.stderr).toContain(`kill ${first.child.pid}`);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("first");

    await first.stop("SIGKILL");
    const third = startTwelveDev(dir, ["--port", String(other)]);
    try {
      await third.waitForLine(/ready locked on aws/, 45_000);
      expect(await (await fetch(`http://127.0.0.1:${other}/`)).text()).toBe("first");
    } finally {
      expect(await third.stop()).toBe(0);
    }
  });
});
