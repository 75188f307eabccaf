import { CrontabError, parseCrontab } from "../../src/formation/crontab.ts";
import type { Problem } from "../../src/formation/problems.ts";
import type { Formation, Process } from "../../src/formation/types.ts";
import { writeArtifact } from "../../src/build/artifacts.ts";
import { deterministicZip, zipSha256Base64 } from "../../src/build/zip.ts";
import type { Adapter, PackageInput, PackagedProcess } from "../../src/adapter.ts";
import { lambdaVariableProblems, reservedNameProblems } from "./names.ts";
import { recursionNotes } from "./recursion.ts";
import { eventBridgeCron } from "./schedule.ts";

const WRAPPERS = {
  web: { module: "adapters/aws/runtime/web", factory: "webHandler" },
  worker: { module: "adapters/aws/runtime/worker", factory: "workerHandler" },
  clock: { module: "adapters/aws/runtime/clock", factory: "clockHandler" },
} as const;

// Lets CommonJS dependencies require() Node's built-ins from inside an ES module bundle.
const REQUIRE_SHIM = 'import{createRequire as __twelveRequire}from"node:module";const require=__twelveRequire(import.meta.url);';

/** What a build does for AWS: a Lambda handler bundle and a deterministic zip per process. */
export const awsBuild: Pick<Adapter, "check" | "bundleOptions" | "package" | "scheduleOf"> = {
  check(formation: Formation): Problem[] {
    const problems: Problem[] = [...reservedNameProblems(formation), ...lambdaVariableProblems(formation)];
    for (const p of formation.processes) {
      if (p.type !== "clock") continue;
      let tab;
      try {
        tab = parseCrontab(p.schedule);
      } catch {
        continue; // an unparsable line is already reported by the formation's own validation
      }
      try {
        eventBridgeCron(tab);
      } catch (error) {
        if (!(error instanceof CrontabError)) throw error;
        problems.push({ path: `processes.${p.name}.schedule`, message: `${error.message} (in "${p.schedule}")` });
      }
    }
    return problems;
  },

  bundleOptions(process: Process) {
    return {
      wrapper: WRAPPERS[process.type],
      exportAs: "handler" as const,
      fileName: "index.mjs",
      options: { platform: "node", target: "node22", banner: { js: REQUIRE_SHIM } },
    };
  },

  async package({ formation, process, bundle, sends, outDir }: PackageInput): Promise<PackagedProcess> {
    const dir = process.name;
    // The files are written while the archive is compressed (on libuv's thread pool).
    const zipping = deterministicZip([
      { name: "index.mjs", data: bundle.code },
      { name: "index.mjs.map", data: bundle.map },
    ]);
    const [bundleFile, sourcemap] = await Promise.all([
      writeArtifact(outDir, `${dir}/index.mjs`, bundle.code),
      writeArtifact(outDir, `${dir}/index.mjs.map`, bundle.map),
    ]);
    const zip = await zipping;
    const artifacts = { bundle: bundleFile, sourcemap, zip: await writeArtifact(outDir, `${dir}/function.zip`, zip) };
    const platform: Record<string, unknown> = {
      runtime: "nodejs22.x",
      handler: "index.handler",
      architecture: formation.aws.architecture,
      memory: process.memory,
      timeout: process.timeout,
      // Lambda reports CodeSha256 in this form, so deploy can skip an unchanged upload.
      codeSha256: zipSha256Base64(zip),
    };
    if (process.type === "web") {
      // The web wrapper streams its Response under Lambda's runtime (runtime/web.ts); the
      // Function URL must be in the mode that reads a streamed response.
      platform.invokeMode = "RESPONSE_STREAM";
    }
    if (process.type === "clock") {
      platform.scheduleExpression = eventBridgeCron(parseCrontab(process.schedule));
      platform.scheduleExpressionTimezone = process.timezone;
    }
    return { artifacts, platform, notes: recursionNotes(process, sends) };
  },

  scheduleOf: (process) => String(process.platform.scheduleExpression ?? ""),
};
