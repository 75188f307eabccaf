import http from "node:http";
import type { AddressInfo } from "node:net";
import { waitFor } from "./wait.ts";

export type Report = Record<string, unknown> & { process: string };

/** Collects what processes report over HTTP, and waits for reports to arrive. */
export async function startReportServer() {
  const reports: Report[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      reports.push(JSON.parse(body) as Report);
      res.end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/report`,
    reports,
    clear: () => void reports.splice(0),
    /** Resolves with the matching reports once `done` holds for them, or fails after timeoutMs. */
    waitFor(filter: (r: Report) => boolean, done: (matching: Report[]) => boolean, timeoutMs = 10_000): Promise<Report[]> {
      const matching = () => reports.filter(filter);
      return waitFor(() => (done(matching()) ? matching() : undefined), timeoutMs, `reports matching ${String(filter)} to satisfy ${String(done)}`, {
        intervalMs: 20,
        detail: () => `matching so far: ${JSON.stringify(matching())}`,
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
