// npm run bench [-- NAME...]: every benchmark with its comparison in the same run.
// Uses hyperfine from Debian's packages (installed here if missing, and said so).
import { benchBuild } from "./build.ts";
import { benchDeploy } from "./deploy.ts";
import { benchDeployCloudflare } from "./deploy-cloudflare.ts";
import { benchDashboard } from "./dashboard.ts";
import { benchBrokers, benchDev } from "./dev.ts";
import { benchDlqDev } from "./dlq-dev.ts";
import { benchDlqEmulators } from "./dlq-emulators.ts";
import { benchInstall } from "./install.ts";
import { ensureDebianTool } from "./tools.ts";

interface BenchOptions {
  hyperfine: boolean;
  wrk: boolean;
  runs: number;
  seconds: number;
}

const BENCHES: Record<string, (options: BenchOptions) => Promise<void>> = {
  build: benchBuild,
  dev: benchDev,
  broker: () => benchBrokers(),
  dashboard: () => benchDashboard(),
  "dlq-dev": () => benchDlqDev(),
  "dlq-emulators": () => benchDlqEmulators(),
  deploy: benchDeploy,
  "deploy-cloudflare": benchDeployCloudflare,
  install: benchInstall,
};

const requested = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const unknown = requested.filter((name) => !(name in BENCHES));
if (unknown.length) {
  console.error(`unknown bench ${unknown.join(", ")}; known: ${Object.keys(BENCHES).join(", ")}`);
  process.exit(2);
}
const runs = Number(process.env.BENCH_RUNS ?? 10);
const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const hyperfine = ensureDebianTool("hyperfine");
const wrk = ensureDebianTool("wrk");
console.log(`node ${process.versions.node}, ${(await import("node:os")).cpus().length} cores, ${runs} runs per command`);
for (const name of requested.length ? requested : Object.keys(BENCHES)) {
  console.log(`\n# ${name}`);
  await BENCHES[name]!({ hyperfine, wrk, runs, seconds });
}
