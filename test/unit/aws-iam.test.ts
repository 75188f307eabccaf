import { validateIdentityPolicy, validateTrustPolicy } from "@cloud-copilot/iam-policy";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adapters } from "../../adapters/index.ts";
import { awsDeployLock, LOCK_TRUST_POLICY } from "../../adapters/aws/lock.ts";
import type { AwsClients } from "../../adapters/aws/client.ts";
import { deployPolicy } from "../../adapters/aws/policy.ts";
import { desiredResources, type RoleResource } from "../../adapters/aws/resources.ts";
import { desiredInput } from "../../adapters/aws/resources/common.ts";
import { functionRole, INLINE_POLICY_LIMIT, trustPolicy } from "../../adapters/aws/resources/role.ts";
import { loadConfig } from "../../src/config/load.ts";
import type { Manifest, ManifestProcess } from "../../src/build/manifest.ts";
import type { Formation } from "../../src/formation/types.ts";
import { validateCall } from "../support/aws-validation.ts";
import { buildProject, removeProject, shopProject } from "../support/project.ts";

/**
 * What IAM's policy grammar asks beyond what @cloud-copilot/iam-policy checks (it takes an
 * empty Statement list, and any Sid): at least one statement, each with a non-empty Action
 * and, in an identity policy, a non-empty Resource; Sids of ASCII letters and digits only.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html
 */
function grammarProblems(policy: { Statement?: readonly Record<string, unknown>[] }, kind: "identity" | "trust"): string[] {
  const statements = policy.Statement ?? [];
  const problems = statements.length ? [] : ["Statement: at least one statement is required"];
  statements.forEach((s, i) => {
    const empty = (v: unknown) => v === undefined || (Array.isArray(v) && v.length === 0);
    if (empty(s.Action)) problems.push(`Statement[${i}].Action is empty`);
    if (kind === "identity" && empty(s.Resource)) problems.push(`Statement[${i}].Resource is empty`);
    if (s.Sid !== undefined && !/^[A-Za-z0-9]+$/.test(String(s.Sid))) problems.push(`Statement[${i}].Sid "${String(s.Sid)}" is not letters and digits`);
  });
  return problems;
}
const trustProblems = (policy: unknown) => [...validateTrustPolicy(policy).map((e) => `${e.path}: ${e.message}`), ...grammarProblems(policy as never, "trust")];
const identityProblems = (policy: unknown) => [...validateIdentityPolicy(policy).map((e) => `${e.path}: ${e.message}`), ...grammarProblems(policy as never, "identity")];

describe("the IAM policy documents twelve writes", () => {
  let dir: string;
  let formation: Formation;
  let manifest: Manifest;
  let roles: RoleResource[];
  const target = { account: "123456789012", region: "eu-west-1", stage: "dev", secrets: { MAIL_API_KEY: "k" } };

  beforeAll(async () => {
    dir = shopProject();
    const built = await buildProject(dir, "aws");
    ({ formation, manifest } = built);
    roles = desiredResources(formation, manifest, built.outDir, target).filter((r): r is RoleResource => r.kind === "role");
  });
  afterAll(() => removeProject(dir));

  it("the deploy lock's trust policy is one IAM takes: a statement that lets nobody assume the role", () => {
    expect(trustProblems(LOCK_TRUST_POLICY)).toEqual([]);
    expect(LOCK_TRUST_POLICY.Statement.map((s) => s.Effect)).toEqual(["Deny"]);
  });

  it("the lock's CreateRole is a request IAM takes whoever holds it (a name with an apostrophe, parentheses, accents)", async () => {
    const sent: { input: Record<string, unknown> }[] = [];
    const Command = class {
      input: Record<string, unknown>;
      constructor(input: Record<string, unknown>) {
        this.input = input;
      }
    };
    const clients = { iam: { send: async (command: { input: Record<string, unknown> }) => void sent.push(command) }, sdk: { iam: { CreateRoleCommand: Command } } } as unknown as AwsClients;
    await awsDeployLock(clients, "shop", "dev").create({ since: Date.now(), holder: "Zoë O'Brien (work)@build-7.local pid 4242", host: "build-7.local", pid: 4242 });
    const input = sent[0]?.input ?? {};
    expect(validateCall({ service: "iam", operation: "CreateRole", region: "us-east-1", input })).toEqual([]);
    expect(input.Tags).toContainEqual({ Key: "twelve:holder", Value: "Zoë O_Brien _work_@build-7.local pid 4242" });
  });

  it("every role's trust policy and inline policy pass IAM's grammar", () => {
    expect(roles.map((r) => r.name)).toEqual(["shop-dev-web", "shop-dev-mailer", "shop-dev-nightly", "shop-dev-nightly-sched"]);
    for (const role of roles) {
      expect(trustProblems(trustPolicy(role.service)), `${role.name} trust policy`).toEqual([]);
      expect(identityProblems(role.policy), `${role.name} inline policy`).toEqual([]);
    }
  });

  it("twelve policy's document passes IAM's grammar, and fits a managed policy's 6,144 characters", () => {
    for (const options of [{}, { account: "123456789012", region: "cn-north-1" }]) {
      const policy = deployPolicy(formation, "prod", options);
      expect(identityProblems(policy)).toEqual([]);
      expect(JSON.stringify(policy).length).toBeLessThan(6144);
    }
    expect(JSON.stringify(deployPolicy(formation, "prod", { account: "123456789012", region: "cn-north-1" }))).toContain("arn:aws-cn:lambda:cn-north-1:123456789012:function:shop-prod-*");
  });

  it("a process that may send() to so many workers that its role's policy would pass IAM's limit is refused at plan time", () => {
    const input = desiredInput(formation, manifest, "/build", target);
    const web = formation.processes.find((p) => p.name === "web")!;
    const built = manifest.processes.find((p) => p.name === "web")!;
    const sends = Array.from({ length: 200 }, (_, i) => `worker-number-${i}`);
    expect(() => functionRole(input, web, { ...built, sends } as ManifestProcess)).toThrow(
      new RegExp(`processes\\.web: its IAM role's inline policy would be \\d+ characters, over IAM's limit of ${INLINE_POLICY_LIMIT}`),
    );
    expect(() => functionRole(input, web, { ...built, sends: sends.slice(0, 20) } as ManifestProcess)).not.toThrow();
  });
});

describe("process names twelve keeps for its own AWS resources", () => {
  const configWith = async (processes: string) => {
    const dir = shopProject((config) => config.replace(/processes: \{[\s\S]*?\n {2}\},/, `processes: {\n${processes}\n  },`));
    try {
      await loadConfig({ cwd: dir, target: "aws", stage: "dev", adapters });
      return undefined;
    } catch (error) {
      return error as Error & { exitCode: number; details: string[] };
    } finally {
      removeProject(dir);
    }
  };
  const entry = 'entry: "examples/shop/src/mailer.ts", concurrency: 2';

  it("a process named twelve-lock or <clock>-sched is a config error naming it", async () => {
    const error = await configWith(
      [
        `    "twelve-lock": { type: "worker", ${entry} },`,
        `    nightly: { type: "clock", entry: "examples/shop/src/nightly.ts", schedule: "0 3 * * *" },`,
        `    "nightly-sched": { type: "worker", ${entry} },`,
      ].join("\n"),
    );
    expect(error?.exitCode).toBe(2);
    expect(error?.details).toEqual([
      'processes.twelve-lock: "twelve-lock" is reserved on AWS: twelve\'s deploy lock is the IAM role shop-<stage>-twelve-lock, the role this process would get. Rename the process.',
      'processes.nightly-sched: "nightly-sched" is taken on AWS by clock "nightly": its EventBridge Scheduler role is shop-<stage>-nightly-sched, the role this process would get. Rename the process (or the clock).',
    ]);
  });

  it("variable and secret names Lambda refuses (a leading _, a single letter) are a config error, not a failed CreateFunction", async () => {
    const dir = shopProject((config) => config.replace('env: { LOG_LEVEL: "info" }', 'env: { LOG_LEVEL: "info", X: "1" }').replace('secrets: ["MAIL_API_KEY"]', 'secrets: ["MAIL_API_KEY", "_TOKEN"]'));
    try {
      const error = (await loadConfig({ cwd: dir, target: "aws", stage: "dev", adapters }).catch((e: unknown) => e)) as { exitCode: number; details: string[] };
      expect(error.exitCode).toBe(2);
      expect(error.details).toEqual([
        'secrets[1]: "_TOKEN": AWS Lambda takes variable names of letters, digits and _ that start with a letter and are at least 2 characters long. Rename it.',
        'processes.web.env.X: "X" (from env or the process\'s own env): AWS Lambda takes variable names of letters, digits and _ that start with a letter and are at least 2 characters long. Rename it.',
      ]);
      // The same config is fine on Cloudflare.
      await expect(loadConfig({ cwd: dir, target: "cloudflare", stage: "dev", adapters })).resolves.toBeDefined();
    } finally {
      removeProject(dir);
    }
  });

  it("a -sched process is fine when no clock has that name", async () => {
    expect(await configWith(`    "report-sched": { type: "worker", ${entry} },`)).toBeUndefined();
  });
});
