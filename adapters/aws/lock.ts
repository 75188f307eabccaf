import os from "node:os";
import { failure } from "../../src/errors.ts";
import type { AwsClients } from "./clients.ts";

/** A lock older than this is from a deploy that died: taken over, and said so. */
const STALE_MS = 30 * 60 * 1000;

export function lockRoleName(app: string, stage: string): string {
  return `${app}-${stage}-twelve-lock`;
}

/**
 * One deploy (or destroy) of a stage at a time. The lock is an IAM role, because CreateRole
 * is the one atomic create-if-absent among the services twelve already uses: a second deploy
 * gets EntityAlreadyExists and stops before any change, naming who holds the lock.
 */
export async function acquireDeployLock(clients: AwsClients, app: string, stage: string, onNote: (line: string) => void): Promise<() => Promise<void>> {
  const { iam, sdk } = clients;
  const RoleName = lockRoleName(app, stage);
  const holder = `${os.userInfo().username}@${os.hostname()} pid ${process.pid}`;
  const host = os.hostname();
  const create = () =>
    iam.send(
      new sdk.iam.CreateRoleCommand({
        RoleName,
        Description: `twelve deploy lock for ${app} (${stage}), held by ${holder}`,
        AssumeRolePolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [] }),
        Tags: [
          { Key: "twelve:lock", Value: `${app}/${stage}` },
          { Key: "twelve:holder", Value: holder },
          { Key: "twelve:host", Value: host },
          { Key: "twelve:pid", Value: String(process.pid) },
        ],
      }),
    );
  try {
    await create();
  } catch (error) {
    if ((error as Error).name !== "EntityAlreadyExistsException") throw error;
    const role = (await iam.send(new sdk.iam.GetRoleCommand({ RoleName }))).Role;
    const since = role?.CreateDate?.getTime() ?? Date.now();
    const tag = (key: string) => role?.Tags?.find((t) => t.Key === key)?.Value;
    const who = tag("twelve:holder") ?? "another deploy";
    // A holder on this machine whose process is gone was killed: no need to wait it out.
    const deadHere = tag("twelve:host") === host && !alive(Number(tag("twelve:pid")));
    if (Date.now() - since < STALE_MS && !deadHere) {
      throw failure(
        `another deploy of ${app} (${stage}) is running (${who}, since ${new Date(since).toISOString()})`,
        `Wait for it to finish. If it died, its lock expires after 30 minutes, or delete the IAM role ${RoleName}.`,
      );
    }
    onNote(`taking over the lock of a deploy that started at ${new Date(since).toISOString()} and did not finish (${who})`);
    await iam.send(new sdk.iam.DeleteRoleCommand({ RoleName })).catch(() => {});
    await create();
  }
  return async () => {
    await iam.send(new sdk.iam.DeleteRoleCommand({ RoleName })).catch(() => {});
  };
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
