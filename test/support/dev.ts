import { spawn, type ChildProcess } from "node:child_process";
import { portIsFree } from "../../src/dev/ports.ts";
import { BIN } from "./cli.ts";
import { waitFor } from "./wait.ts";

export { waitFor } from "./wait.ts";

/** A base port with `count` free ports from it, on 127.0.0.1. */
export async function freePorts(count: number): Promise<number> {
  for (;;) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    const free = await Promise.all(Array.from({ length: count }, (_, i) => portIsFree(base + i)));
    if (free.every(Boolean)) return base;
  }
}

/** `twelve dev` started as a user would (`bin`: another install's twelve; `node`: another Node), its output collected line by line. */
export function startTwelveDev(dir: string, args: string[], env: NodeJS.ProcessEnv = {}, bin = BIN, node = process.execPath) {
  const lines: string[] = [];
  const child: ChildProcess = spawn(node, [bin, "dev", ...args], {
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
  const gone = (): string | undefined => {
    if (child.exitCode !== null) return `twelve dev exited with code ${child.exitCode}`;
    if (child.signalCode !== null) return `twelve dev was killed by ${child.signalCode}`;
    return undefined;
  };

  return {
    child,
    lines,
    exited,
    waitForLine(pattern: RegExp, timeoutMs = 20_000, from = 0): Promise<string> {
      return waitFor(() => lines.slice(from).find((l) => pattern.test(l)), timeoutMs, `a line matching ${pattern} from twelve dev`, {
        intervalMs: 50,
        gone,
        detail: () => `its output so far:\n${lines.join("\n")}`,
      });
    },
    async stop(signal: NodeJS.Signals = "SIGINT"): Promise<number | null> {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
