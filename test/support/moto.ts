// Starts a private moto_server for a test file and tears it down again.
//
// Each caller gets its own port and process so test files can run in
// parallel without sharing queues or functions.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { freePort } from "../../src/dev/ports.ts";
import { waitFor } from "./wait.ts";

export interface MotoServer {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

const NOT_FOUND = "moto_server not found: pip install 'moto[server]==5.2.1'";
const READY_TIMEOUT_MS = 30_000;
const KILL_GRACE_MS = 3_000;

export function awsTestEnv(endpoint: string): {
  AWS_ENDPOINT_URL: string;
  AWS_REGION: string;
  AWS_ACCESS_KEY_ID: string;
  AWS_SECRET_ACCESS_KEY: string;
} {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: "eu-west-1",
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
  };
}

/** An AWS SDK client's settings for talking to moto directly, with awsTestEnv's region and keys. */
export function motoClientConfig(endpoint: string) {
  const env = awsTestEnv(endpoint);
  return { region: env.AWS_REGION, endpoint, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } };
}

export async function startMoto(): Promise<MotoServer> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  // Own process group, so stop() also reaches anything the pyenv shim forks.
  const child = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
    detached: true,
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    // Keep only the tail: moto logs every request here.
    stderr = (stderr + chunk).slice(-4000);
  });
  let exit: Exit | undefined;
  const exited = new Promise<Exit>((resolve) => {
    child.once("error", (error) => resolve({ code: null, error }));
    child.once("exit", (code) => resolve({ code }));
  }).then((e) => (exit = e));
  // A crashed test run must not leave a server behind.
  const onExit = (): void => killGroup(child, "SIGKILL");
  process.once("exit", onExit);

  const stop = async (): Promise<void> => {
    process.removeListener("exit", onExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    killGroup(child, "SIGTERM");
    const timer = setTimeout(() => killGroup(child, "SIGKILL"), KILL_GRACE_MS);
    await exited;
    clearTimeout(timer);
  };

  try {
    await waitUntilReady(endpoint, () => exit, () => stderr);
    const res = await fetch(`${endpoint}/moto-api/config`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      // No Docker in tests: Lambda functions are stored, not executed.
      body: JSON.stringify({ lambda: { use_docker: false } }),
    });
    if (!res.ok) throw new Error(`moto config failed: HTTP ${res.status} ${await res.text()}`);
  } catch (err) {
    await stop();
    throw err;
  }
  return { endpoint, port, stop };
}

interface Exit {
  code: number | null;
  error?: Error;
}

async function waitUntilReady(endpoint: string, exit: () => Exit | undefined, stderr: () => string): Promise<void> {
  const answers = async (): Promise<true | undefined> => {
    try {
      const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      return res.ok || undefined;
    } catch {
      return undefined; // not listening yet
    }
  };
  const gone = (): string | undefined => {
    const e = exit();
    if (!e) return undefined;
    const missing = (e.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT" || e.code === 127 || /command not found/.test(stderr());
    return missing ? NOT_FOUND : `it exited early (code ${e.code})${e.error ? `: ${e.error.message}` : ""}`;
  };
  await waitFor(answers, READY_TIMEOUT_MS, `moto_server to answer on ${endpoint}`, { gone, detail: () => stderr() && `its stderr: ${stderr()}` });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}
