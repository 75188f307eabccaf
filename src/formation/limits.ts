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
