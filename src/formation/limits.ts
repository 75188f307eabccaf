/**
 * A range a platform enforces, with the platform's own name for the setting. Each adapter
 * states its ranges (adapters/<target>/limits.ts); moto checks none of them and Cloudflare
 * only at upload time, so twelve checks them before building anything.
 */
export interface Range {
  min: number;
  max: number;
  setting: string;
}

/** The retention periods CloudWatch Logs accepts (PutRetentionPolicy refuses any other number). */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;
