import type { DeployLock, LockHolder } from "../../src/deploy/lock.ts";
import type { AwsClients } from "./client.ts";
import { LOCK_PROCESS_NAME } from "./names.ts";
import { takenError } from "./resources/common.ts";

/** Reserved: no process may be named so (adapters/aws/names.ts). */
export function lockRoleName(app: string, stage: string): string {
  return `${app}-${stage}-${LOCK_PROCESS_NAME}`;
}

/**
 * The lock role is never assumed, but CreateRole needs a trust policy, and IAM's grammar has one
 * statement or more, each naming a principal (nothing promises it takes an empty list): one
 * statement that denies everyone.
 */
export const LOCK_TRUST_POLICY = {
  Version: "2012-10-17",
  Statement: [{ Sid: "NobodyAssumesTheDeployLock", Effect: "Deny", Principal: { AWS: "*" }, Action: "sts:AssumeRole" }],
} as const;

/**
 * One deploy (or destroy) of a stage at a time. The lock is an IAM role, because CreateRole is
 * the one atomic create-if-absent among the services twelve already uses: a second deploy gets
 * EntityAlreadyExists and stops before any change. Its tags say who holds it.
 */
export function awsDeployLock(clients: AwsClients, app: string, stage: string): DeployLock {
  const { iam, sdk } = clients;
  const RoleName = lockRoleName(app, stage);
  return {
    removeByHand: `delete the IAM role ${RoleName}`,
    async create(me: LockHolder) {
      try {
        await iam.send(
          new sdk.iam.CreateRoleCommand({
            RoleName,
            Description: iamDescription(`twelve deploy lock for ${app} (${stage}), held by ${me.holder}`),
            AssumeRolePolicyDocument: JSON.stringify(LOCK_TRUST_POLICY),
            Tags: [
              { Key: "twelve:lock", Value: `${app}/${stage}` },
              { Key: "twelve:holder", Value: iamTagValue(me.holder ?? "") },
              { Key: "twelve:host", Value: iamTagValue(me.host ?? "") },
              { Key: "twelve:pid", Value: String(me.pid ?? "") },
            ],
          }),
        );
        return undefined;
      } catch (error) {
        if ((error as Error).name !== "EntityAlreadyExistsException") throw error;
      }
      const role = (await iam.send(new sdk.iam.GetRoleCommand({ RoleName }))).Role;
      const tag = (key: string) => role?.Tags?.find((t) => t.Key === key)?.Value;
      // Another app's role can have this name (app "a-b", stage "twelve", process "lock"): a
      // role that is another stage's lock, or a process's (twelve:app), is never taken for this
      // lock, nor removed as a stale one.
      const lockOf = tag("twelve:lock");
      if (lockOf ? lockOf !== `${app}/${stage}` : tag("twelve:app") !== undefined || tag("twelve:stage") !== undefined) {
        throw takenError({ app, stage }, "IAM role", `${RoleName} (this stage's deploy lock)`, Object.fromEntries((role?.Tags ?? []).map((t) => [t.Key ?? "", t.Value ?? ""])));
      }
      const pid = Number(tag("twelve:pid"));
      return {
        since: role?.CreateDate?.getTime() ?? Date.now(),
        ...(tag("twelve:holder") ? { holder: tag("twelve:holder") } : {}),
        ...(tag("twelve:host") ? { host: tag("twelve:host") } : {}),
        ...(Number.isInteger(pid) && pid > 0 ? { pid } : {}),
      };
    },
    async remove() {
      await iam.send(new sdk.iam.DeleteRoleCommand({ RoleName }));
    },
  };
}

/**
 * A user or host name as IAM takes it in a tag value (letters, digits, spaces and _.:/=+-@, at
 * most 256): anything else (an apostrophe, parentheses) would make CreateRole, and so every
 * deploy, fail for that user.
 */
function iamTagValue(text: string): string {
  return [...text.replace(/[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu, "_")].slice(0, 256).join("");
}

/** A role description as IAM takes it: Latin-1 printable characters, at most 1,000. */
function iamDescription(text: string): string {
  return text.replace(/[^\t\n\r\x20-\x7E\xA1-\xFF]/g, "?").slice(0, 1000);
}
