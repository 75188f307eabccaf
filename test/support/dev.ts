import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { BIN } from "./cli.ts";

/** A base port with `count` free ports from it, on 127.0.0.1. */
export async function freePorts(count: number): Promise<number> {
  for (;;) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    const free = await Promise.all(Array.from({ length: count }, (_, i) => isFree(base + i)));
    if (free.every(Boolean)) return base;
  }
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

/** `twelve dev` started as a user would (`bin`: another install's twelve), its output collected line by line. */
export function startTwelveDev(dir: string, args: string[], env: NodeJS.ProcessEnv = {}, bin = BIN) {
  const lines: string[] = [];
  const child: ChildProcess = spawn(process.execPath, [bin, "dev", ...args], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let rest = "";
  const collect = (chunk: Buffer) => {
    const parts = (rest + chunk.toString()).split("\n");
    rest = parts.pop() ?? "";
    lines.push(...parts);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));

  return {
    child,
    lines,
    exited,
    async waitForLine(pattern: RegExp, timeoutMs = 20_000, from = 0): Promise<string> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const line = lines.slice(from).find((l) => pattern.test(l));
        if (line) return line;
        if (Date.now() > deadline) throw new Error(`no line matching ${pattern} in:\n${lines.join("\n")}`);
        if (child.exitCode !== null) throw new Error(`twelve dev exited (${child.exitCode}) before ${pattern}:\n${lines.join("\n")}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop(signal: NodeJS.Signals = "SIGINT"): Promise<number | null> {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export async function waitFor<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
