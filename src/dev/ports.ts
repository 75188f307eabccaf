import { TwelveError } from "../errors.ts";
import type { Process } from "../formation/types.ts";
import net from "node:net";

/** Whether nothing listens on the port on 127.0.0.1. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

/** A port the system says is free on 127.0.0.1 now (it may be taken by the time it is used). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => (port ? resolve(port) : reject(new Error("no free port on 127.0.0.1"))));
    });
  });
}

/** Web processes get ports counting up from `base`, in config order, keeping those they have; each must be free. */
export async function assignPorts(processes: readonly Process[], base: number, taken: ReadonlyMap<string, number> = new Map()): Promise<Map<string, number>> {
  const ports = new Map(taken);
  let next = base;
  for (const process of processes) {
    if (process.type !== "web" || ports.has(process.name)) continue;
    while ([...ports.values()].includes(next)) next++;
    if (!(await portIsFree(next))) {
      throw new TwelveError(`port ${next} (for web process "${process.name}") is in use`, {
        exitCode: 1,
        hint: `Stop what uses it, or start from another port: twelve dev --port ${next + 100}`,
      });
    }
    ports.set(process.name, next++);
  }
  return ports;
}
