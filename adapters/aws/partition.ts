import { usageError } from "../../src/errors.ts";

/**
 * The AWS partition a region belongs to, and its DNS suffix: ARNs start `arn:<partition>:` and
 * service endpoints end in the suffix, so a China or GovCloud region needs both to be right.
 */
export interface Partition {
  /** aws, aws-cn, aws-us-gov */
  name: string;
  /** amazonaws.com, amazonaws.com.cn */
  dnsSuffix: string;
}

export function partitionOf(region: string): Partition {
  if (region.startsWith("cn-")) return { name: "aws-cn", dnsSuffix: "amazonaws.com.cn" };
  if (region.startsWith("us-gov-")) return { name: "aws-us-gov", dnsSuffix: "amazonaws.com" };
  // The isolated partitions (us-iso-*, us-isob-*, eu-isoe-*, us-isof-*) have endpoints of their
  // own that twelve's runtime has never been run against: refused rather than guessed.
  if (/^[a-z]{2}-iso[a-z]?-/.test(region)) {
    throw usageError(`AWS region ${region} is in an isolated partition, which twelve does not deploy to`, "Deploy to a region of the aws, aws-cn or aws-us-gov partitions.");
  }
  return { name: "aws", dnsSuffix: "amazonaws.com" };
}

/** arn:aws:sqs:..., arn:aws-cn:sqs:...: an SQS ARN in any partition. */
export const SQS_ARN = /^arn:aws(-[a-z-]+)?:sqs:/;
