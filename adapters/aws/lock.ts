import type { DeployLock, LockHolder } from "../../src/deploy/lock.ts";
import type { AwsClients } from "./client.ts";

export function lockRoleName(app: string, stage: string): string {
  return `${app}-${stage}-twelve-lock`;
}

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
            Description: `twelve deploy lock for ${app} (${stage}), held by ${me.holder}`,
            AssumeRolePolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [] }),
            Tags: [
              { Key: "twelve:lock", Value: `${app}/${stage}` },
              { Key: "twelve:holder", Value: me.holder ?? "" },
              { Key: "twelve:host", Value: me.host ?? "" },
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
