// Starts a private moto_server for a test file and tears it down again.
//
// Each caller gets its own port and process so test files can run in
// parallel without sharing queues or functions.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createServer } from "node:net";

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
  const exited = new Promise<{ code: number | null; error?: Error }>((resolve) => {
    child.once("error", (error) => resolve({ code: null, error }));
    child.once("exit", (code) => resolve({ code }));
  });
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
    await waitUntilReady(endpoint, exited, () => stderr);
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

async function waitUntilReady(
  endpoint: string,
  exited: Promise<{ code: number | null; error?: Error }>,
  stderr: () => string,
): Promise<void> {
  let gone: { code: number | null; error?: Error } | undefined;
  void exited.then((e) => (gone = e));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (gone) {
      const missing =
        (gone.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT" ||
        gone.code === 127 ||
        /command not found/.test(stderr());
      if (missing) throw new Error(NOT_FOUND);
      throw new Error(`moto_server exited early (code ${gone.code}): ${gone.error?.message ?? stderr()}`);
    }
    try {
      const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`moto_server did not answer on ${endpoint} within ${READY_TIMEOUT_MS / 1000}s: ${stderr()}`);
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error("could not find a free port"))));
    });
  });
}
