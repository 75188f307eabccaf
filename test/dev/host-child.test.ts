import { fork } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "../support/cli.ts";
import { waitFor } from "../support/wait.ts";

describe("a process's host child", () => {
  it("cleans up and exits when twelve dev goes away before the host is ready", async () => {
    const marker = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "twelve-host-")), "marker");
    const child = fork(path.join(REPO, "test/fixtures/hosts/slow-start.ts"), [], { env: { ...process.env, MARKER: marker }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    // twelve dev goes away at once, while the host is still starting.
    child.disconnect();
    const code = await Promise.race([exited, new Promise<string>((resolve) => setTimeout(() => resolve("still running"), 5000))]);
    if (code === "still running") child.kill("SIGKILL");
    expect(code).toBe(0);
    expect(await waitFor(() => (fs.existsSync(marker) ? fs.readFileSync(marker, "utf8") : undefined), 1000, "the host's cleanup")).toBe("cleaned up");
  });
});
