import type { Target } from "../../../src/formation/types.ts";
import type { startReportServer } from "../../support/report-server.ts";

/**
 * How the conformance suite reaches a built formation on one platform. Each adapter supplies
 * only this; the expectations are shared (test/adapters/conformance.test.ts).
 */
export interface Invoker {
  target: Target;
  /** An HTTP request to the web process. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** What the platform's scheduler does when the clock's trigger fires at this time. */
  fireClock(scheduledTime: number): Promise<void>;
  reports: Awaited<ReturnType<typeof startReportServer>>;
  close(): Promise<void>;
}
