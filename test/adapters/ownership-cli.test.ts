import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsProxy, type AwsProxy } from "../support/aws-proxy.ts";
import { runTwelve } from "../support/cli.ts";
import { awsTestEnv, startMoto, type MotoServer } from "../support/moto.ts";
import { ownershipApp } from "../support/ownership-apps.ts";
import { removeProject } from "../support/project.ts";

// The pair as a user meets it: app "aws-app" stage "dlq" and app "aws" stage "app-dlq"
// would both name resources aws-app-dlq-*, so a stage with a hyphen is refused; and where two
// apps' names still meet, the second's deploy stops, naming the resource and its owner.
describe("twelve deploy: two apps whose names join alike", () => {
  let moto: MotoServer;
  let proxy: AwsProxy;
  let env: NodeJS.ProcessEnv;
  const dirs: string[] = [];
  const app = (name: string, prefix = "") => {
    const dir = ownershipApp(name, prefix);
    dirs.push(dir);
    return dir;
  };

  beforeAll(async () => {
    moto = await startMoto();
    proxy = await startAwsProxy(moto.endpoint);
    env = { ...awsTestEnv(proxy.endpoint), CI: "true" };
  });
  afterAll(async () => {
    await proxy?.stop();
    await moto?.stop();
    for (const dir of dirs) removeProject(dir);
  });

  it("a stage with a hyphen is a usage error naming --stage and the rule, before any call to AWS", async () => {
    const calls = proxy.calls.length;
    const result = await runTwelve(["deploy", "--stage", "app-dlq", "--yes"], { cwd: app("aws"), env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--stage: stage "app-dlq" must be lower-case letters and digits, starting with a letter, at most 20 characters, with no hyphen');
    expect(result.stderr).toContain('app "a" stage "b-c" and app "a-b" stage "c" would name theirs alike');
    expect(result.stderr).toContain('Use one word (such as "appdlq")');
    expect(proxy.calls.length).toBe(calls);
  });

  it("where two apps' names still meet, the second deploy fails (exit 1) naming the resource and its owner, and the first still converges", async () => {
    const first = app("own-b");
    expect((await runTwelve(["deploy", "--stage", "c", "--yes"], { cwd: first, env })).code).toBe(0);
    const result = await runTwelve(["deploy", "--stage", "b", "--yes"], { cwd: app("own", "c-"), env });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/the (IAM role|SQS queue) own-b-c-[a-z-]+ already exists and is app "own-b" stage "c"'s, not app "own" stage "b"'s: twelve leaves it as it is/);
    expect(result.stderr).toContain("Rename the process, the app or the stage so that the names differ.");
    const plan = await runTwelve(["plan", "--stage", "c", "--json"], { cwd: first, env });
    expect(JSON.parse(plan.stdout).changes).toEqual([]);
  }, 60_000);
});
