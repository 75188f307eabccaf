import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { REPO, runTwelve } from "../support/cli.ts";
import { startCloudflareApi, type CloudflareApi } from "../support/cloudflare-api.ts";
import { awsTestEnv, startMoto, type MotoServer } from "../support/moto.ts";
import { runProcess } from "../support/process.ts";
import { copyFixture, removeProject } from "../support/project.ts";
import { cloudflareTestEnv } from "../support/wrangler.ts";

// twelve in CI: the GitHub Action's own steps, run as action.yml writes them, deploy a small
// app to moto_server and to the Cloudflare API stand-in; the workflow templates are checked
// against what GitHub requires and what the action declares; CI-mode output is plain.

interface ActionStep {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  shell?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
  "working-directory"?: string;
}
interface Action {
  name: string;
  description: string;
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description: string; value: string }>;
  runs: { using: string; steps: ActionStep[] };
}

const action = parse(fs.readFileSync(path.join(REPO, "action.yml"), "utf8")) as Action;
const repository = (JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as { repository: string }).repository.replace(/^github:/, "");

/** `${{ <context>.<name> }}` expressions, as the runner fills them in. */
function evaluate(text: string, contexts: Record<string, Record<string, string>>): string {
  return text.replace(/\$\{\{\s*([a-z]+)\.([A-Za-z0-9_.-]+)\s*\}\}/g, (_, context: string, name: string) => {
    const value = contexts[context]?.[name];
    if (value === undefined) throw new Error(`\${{ ${context}.${name} }} has no value`);
    return value;
  });
}

/** GitHub's key=value lines of $GITHUB_OUTPUT. */
function readOutputs(file: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    const at = line.indexOf("=");
    if (at > 0) outputs[line.slice(0, at)] = line.slice(at + 1);
  }
  return outputs;
}

/**
 * Runs the action's steps as the runner would: each `run:` with bash -eo pipefail in its
 * working directory, the inputs filled into `env` and `working-directory`, $GITHUB_OUTPUT and
 * $GITHUB_STEP_SUMMARY as files. `uses:` steps (setup-node) are what the runner provides here.
 */
interface ActionRun {
  ok: boolean;
  /** The step that failed. */
  failed?: string | undefined;
  code?: number | null;
  log: string;
  outputs: Record<string, string>;
  summary: string;
}

async function runAction(inputs: Record<string, string>, env: NodeJS.ProcessEnv): Promise<ActionRun> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "twelve-action-"));
  const withDefaults = { ...Object.fromEntries(Object.entries(action.inputs).map(([k, v]) => [k, v.default ?? ""])), ...inputs };
  const summary = path.join(work, "summary.md");
  const steps: Record<string, Record<string, string>> = {};
  const logs: string[] = [];
  try {
    for (const step of action.runs.steps) {
      if (step.uses) continue;
      const output = path.join(work, `output-${step.id ?? logs.length}`);
      fs.writeFileSync(output, "");
      const stepEnv = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, evaluate(String(v), { inputs: withDefaults })]));
      const cwd = path.resolve(evaluate(step["working-directory"] ?? ".", { inputs: withDefaults }));
      const result = await runProcess("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", step.run ?? ""], {
        cwd,
        env: { ...process.env, ...env, ...stepEnv, GITHUB_ACTIONS: "true", GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary, RUNNER_TEMP: work, npm_config_offline: "true" },
      });
      logs.push(`## ${step.name}\n${result.stdout}${result.stderr}`);
      if (result.code !== 0) return { ok: false, failed: step.name, code: result.code, log: logs.join("\n"), outputs: {}, summary: fs.existsSync(summary) ? fs.readFileSync(summary, "utf8") : "" };
      if (step.id) steps[step.id] = readOutputs(output);
    }
    // The steps context, flat: "deploy.outputs.urls" → value.
    const stepsContext = Object.fromEntries(Object.entries(steps).flatMap(([id, values]) => Object.entries(values).map(([k, v]) => [`${id}.outputs.${k}`, v])));
    const outputs = Object.fromEntries(Object.entries(action.outputs).map(([name, o]) => [name, evaluate(o.value, { steps: stepsContext })]));
    return { ok: true, log: logs.join("\n"), outputs, summary: fs.readFileSync(summary, "utf8") };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** The fixture app as a user's repository: package.json and lockfile (twelve linked from this checkout). */
async function ciApp(): Promise<string> {
  const dir = copyFixture("ci-app");
  fs.rmSync(path.join(dir, "node_modules"));
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "ciapp", private: true, type: "module", dependencies: { twelve: `file:${REPO}` } }, null, 2));
  const lock = await runProcess("npm", ["install", "--package-lock-only", "--offline", "--no-audit", "--no-fund"], { cwd: dir, env: process.env });
  if (lock.code !== 0) throw new Error(`npm install --package-lock-only failed:\n${lock.stderr}`);
  return dir;
}

describe("the GitHub Action", () => {
  it("declares the inputs and outputs a workflow uses, and passes inputs to its scripts as variables only", () => {
    expect(Object.keys(action.inputs).sort()).toEqual(["config", "stage", "target", "working-directory"]);
    expect(action.inputs.stage?.required).toBe(true);
    expect(Object.keys(action.outputs).sort()).toEqual(["url", "urls"]);
    expect(action.runs.using).toBe("composite");
    for (const step of action.runs.steps) {
      if (step.uses) expect(step.uses).toMatch(/^actions\/setup-node@v\d+$/);
      else {
        expect(step.shell).toBe("bash");
        // An input pasted into a script could inject commands; they come in through env.
        expect(step.run).not.toContain("${{");
      }
    }
    const commands = action.runs.steps.map((s) => s.run ?? "").join("\n");
    expect(commands).toContain("npm ci");
    expect(commands).toContain("npx --no-install twelve");
    expect(commands).toContain("deploy --yes");
  });

  describe("its steps deploy an app", () => {
    let moto: MotoServer;
    let cf: CloudflareApi;
    let app: string;
    let home: string;

    beforeAll(async () => {
      [moto, cf, app] = await Promise.all([startMoto(), startCloudflareApi(), ciApp()]);
      home = fs.mkdtempSync(path.join(os.tmpdir(), "twelve-ci-home-"));
    }, 60_000);
    afterAll(async () => {
      await moto?.stop();
      await cf?.stop();
      removeProject(app);
      fs.rmSync(home, { recursive: true, force: true });
    });

    it("to AWS (moto): npm ci from the lockfile, deploy without a prompt, the URL as output, the plan in the step summary", { timeout: 120_000 }, async () => {
      const result = await runAction({ target: "aws", stage: "ci", "working-directory": app }, { ...awsTestEnv(moto.endpoint), API_KEY: "k" });
      expect(result.ok, result.log).toBe(true);
      expect(fs.lstatSync(path.join(app, "node_modules", "twelve")).isSymbolicLink()).toBe(true);
      const urls = JSON.parse(result.outputs.urls ?? "{}") as Record<string, string>;
      expect(urls.web).toMatch(/^https:\/\/[a-z0-9]+\.lambda-url\.eu-west-1\.on\.aws\/?$/);
      expect(result.outputs.url).toBe(urls.web);
      expect(result.summary).toContain("### ✅ twelve deploy: ciapp (ci) on AWS eu-west-1");
      expect(result.summary).toContain("| + | function | `ciapp-ci-web` | create |");
      expect(result.summary).toContain(urls.web);
      expect(result.log).toContain("+ function ciapp-ci-web");
    });

    it("to Cloudflare (the API stand-in, through wrangler): the workers.dev URL as output", { timeout: 120_000 }, async () => {
      const result = await runAction({ target: "cloudflare", stage: "ci", "working-directory": app }, { ...cloudflareTestEnv(cf, home), API_KEY: "k" });
      expect(result.ok, result.log).toBe(true);
      expect(JSON.parse(result.outputs.urls ?? "{}")).toEqual({ web: "https://ciapp-ci-web.twelve-test.workers.dev" });
      expect(result.outputs.url).toBe("https://ciapp-ci-web.twelve-test.workers.dev");
      expect([...cf.state.scripts.keys()].sort()).toEqual(["ciapp-ci-jobs", "ciapp-ci-nightly", "ciapp-ci-web"]);
      expect(result.summary).toContain("| + | worker | `ciapp-ci-web` | create |");
    });

    it("fails the step, naming the failing resource, as an annotation and in the summary", { timeout: 120_000 }, async () => {
      const web = path.join(app, "src/web.ts");
      fs.writeFileSync(web, fs.readFileSync(web, "utf8").replace('"ciapp\\n"', '"ciapp v2\\n"'));
      // The new version's upload is refused, as Cloudflare refuses a script that throws at startup.
      cf.failNext({ method: "POST", pathIncludes: "/ciapp-ci-web/versions" }, 400, { code: 10021, message: "Uncaught Error: boom at startup" });
      const result = await runAction({ target: "cloudflare", stage: "ci", "working-directory": app }, { ...cloudflareTestEnv(cf, home), API_KEY: "k" });
      expect(result.ok, result.log).toBe(false);
      expect(result.code).toBe(1);
      expect(result.log).toMatch(/::error title=twelve deploy failed::update worker ciapp-ci-web failed: wrangler deploy exited with status 1:.*Uncaught Error: boom at startup/);
      expect(result.summary).toContain("### ❌ twelve deploy failed");
      expect(result.summary).toContain("update worker ciapp-ci-web failed");
      expect(result.summary).toContain("run twelve deploy again");
    });

    it("without a stage or a lockfile, stops with a clear error", { timeout: 60_000 }, async () => {
      const noStage = await runAction({ target: "aws", "working-directory": app }, awsTestEnv(moto.endpoint));
      expect(noStage.ok).toBe(false);
      expect(noStage.log).toContain("::error title=twelve::the stage input is required");
      const bare = copyFixture("ci-app");
      try {
        const noLock = await runAction({ stage: "ci", "working-directory": bare }, awsTestEnv(moto.endpoint));
        expect(noLock.ok).toBe(false);
        expect(noLock.failed).toBe("Check the app's lockfile");
        expect(noLock.log).toContain("no package-lock.json in");
      } finally {
        removeProject(bare);
      }
    });
  });
});

describe("the workflow templates", () => {
  const templates = ["aws", "cloudflare"].map((target) => ({ target, workflow: parse(fs.readFileSync(path.join(REPO, "templates/workflows", `${target}.yml`), "utf8")) as Record<string, any> }));

  it.each(templates)("$target: valid for GitHub, plan on pull requests, deploy on push to main through the action with declared inputs only", ({ target, workflow }) => {
    expect(workflow.name).toBeTypeOf("string");
    expect(Object.keys(workflow.on).sort()).toEqual(["pull_request", "push"]);
    expect(workflow.on.push.branches).toEqual(["main"]);
    expect(Object.keys(workflow.jobs).sort()).toEqual(["deploy", "plan"]);
    for (const job of Object.values(workflow.jobs) as any[]) {
      expect(job["runs-on"]).toBe("ubuntu-latest");
      expect(Array.isArray(job.steps) && job.steps.length > 0).toBe(true);
      for (const step of job.steps) expect(Number("uses" in step) + Number("run" in step)).toBe(1);
    }
    expect(workflow.jobs.plan.if).toContain("pull_request");
    expect(workflow.jobs.plan.steps.map((s: ActionStep) => s.run ?? "").join("\n")).toMatch(/npx twelve plan --stage/);
    expect(workflow.jobs.deploy.if).toContain("refs/heads/main");
    const uses = workflow.jobs.deploy.steps.filter((s: ActionStep) => s.uses?.startsWith(`${repository}@`));
    expect(uses).toHaveLength(1);
    expect(uses[0].uses).toBe(`${repository}@v1`);
    for (const key of Object.keys(uses[0].with)) expect(Object.keys(action.inputs)).toContain(key);
    for (const [key, input] of Object.entries(action.inputs)) if (input.required) expect(Object.keys(uses[0].with)).toContain(key);
    expect(uses[0].with.target).toBe(target);
    expect(workflow.jobs.deploy.environment.url).toBe(`\${{ steps.${uses[0].id}.outputs.url }}`);

    const text = JSON.stringify(workflow);
    if (target === "aws") {
      expect(workflow.permissions["id-token"]).toBe("write");
      for (const job of ["plan", "deploy"]) expect(workflow.jobs[job].steps.some((s: ActionStep) => s.uses?.startsWith("aws-actions/configure-aws-credentials@") && s.with?.["role-to-assume"])).toBe(true);
      expect(text).not.toMatch(/AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY/);
    } else {
      expect(workflow.env.CLOUDFLARE_API_TOKEN).toBe("${{ secrets.CLOUDFLARE_API_TOKEN }}");
      expect(workflow.env.CLOUDFLARE_ACCOUNT_ID).toMatch(/^\$\{\{ (vars|secrets)\.CLOUDFLARE_ACCOUNT_ID \}\}$/);
    }
  });

  it("the README shows each workflow exactly as the template has it", () => {
    const readme = fs.readFileSync(path.join(REPO, "README.md"), "utf8");
    for (const target of ["aws", "cloudflare"]) expect(readme).toContain(`\`\`\`yaml\n${fs.readFileSync(path.join(REPO, "templates/workflows", `${target}.yml`), "utf8")}\`\`\``);
  });

  it("twelve init writes the workflow of its target", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "twelve-init-ci-"));
    try {
      for (const target of ["aws", "cloudflare"]) {
        expect((await runTwelve(["init", `app-${target}`, "--target", target], { cwd: root })).code).toBe(0);
        expect(fs.readFileSync(path.join(root, `app-${target}`, ".github/workflows/twelve.yml"), "utf8")).toBe(fs.readFileSync(path.join(REPO, "templates/workflows", `${target}.yml`), "utf8"));
      }
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("CI mode", () => {
  let moto: MotoServer;
  let app: string;
  let work: string;

  beforeAll(async () => {
    moto = await startMoto();
    app = copyFixture("ci-app");
    work = fs.mkdtempSync(path.join(os.tmpdir(), "twelve-ci-mode-"));
  });
  afterAll(async () => {
    await moto?.stop();
    removeProject(app);
    fs.rmSync(work, { recursive: true, force: true });
  });

  it("plan and deploy print plain lines (no prompt, no control codes) and write the plan to the step summary", { timeout: 60_000 }, async () => {
    const summary = path.join(work, "summary.md");
    const env = { ...awsTestEnv(moto.endpoint), API_KEY: "k", CI: "true", GITHUB_STEP_SUMMARY: summary, FORCE_COLOR: "" };
    const plan = await runTwelve(["plan", "--stage", "ci"], { cwd: app, env });
    expect(plan.code).toBe(0);
    const planned = fs.readFileSync(summary, "utf8");
    expect(planned).toContain("### twelve plan: ciapp (ci) on AWS eu-west-1 (account 123456789012)");
    expect(planned).toContain("| + | function | `ciapp-ci-jobs` | create |");
    expect(planned).toMatch(/\*\*\d+ to create, 0 to update, 0 to delete, 0 unchanged\.\*\*/);

    const deploy = await runTwelve(["deploy", "--stage", "ci"], { cwd: app, env });
    expect(deploy.code).toBe(0);
    for (const text of [plan.stdout, plan.stderr, deploy.stdout, deploy.stderr]) {
      expect(text).not.toMatch(/[\u001b\r]/);
      expect(text).not.toMatch(/\[y\/N\]/);
    }
    expect(deploy.stdout).toContain("+ function ciapp-ci-web");
    expect(fs.readFileSync(summary, "utf8")).toContain("### ✅ twelve deploy: ciapp (ci)");
  });

  it("a missing AWS credential fails at once, naming the variables, without a request", async () => {
    const requests: string[] = [];
    const server = http.createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const result = await runTwelve(["deploy", "--stage", "ci"], {
        cwd: app,
        env: { CI: "true", API_KEY: "k", AWS_ENDPOINT_URL: endpoint, AWS_EC2_METADATA_SERVICE_ENDPOINT: endpoint, AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "", AWS_PROFILE: "", HOME: work, AWS_CONFIG_FILE: "", AWS_SHARED_CREDENTIALS_FILE: "" },
      });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("no AWS credentials in this CI job: none of AWS_ACCESS_KEY_ID, AWS_PROFILE, AWS_WEB_IDENTITY_TOKEN_FILE is set");
      expect(result.stderr).toContain("aws-actions/configure-aws-credentials");
      expect(requests).toEqual([]);
    } finally {
      server.close();
    }
  });
});
