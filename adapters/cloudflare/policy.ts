import type { DeployPolicy } from "../../src/adapter.ts";
import type { Formation } from "../../src/formation/types.ts";

/**
 * `twelve policy` on Cloudflare. An API token's permissions are account-wide groups, not a
 * document scoped to resources as IAM's is, so what there is to print is the list of groups
 * the commands use, to pick when creating the token (dash.cloudflare.com > My Profile > API Tokens).
 */
export function cloudflarePolicy(formation: Formation, stage: string): DeployPolicy {
  const permissions = [
    { scope: "Account", group: "Workers Scripts", access: "Edit", for: "plan, deploy, destroy, ps, scale: the Workers, their secrets, crons, consumers, Durable Object classes (a clock's lease) and workers.dev routes" },
    { scope: "Account", group: "Queues", access: "Edit", for: "deploy, destroy, ps, run, dlq: the queues, the dead-letter queues' HTTP pull consumers, the deploy lock (a queue), sending a message; dlq pulls and releases (acks) dead letters to list them" },
    { scope: "Account", group: "Account Settings", access: "Read", for: "deploy: the account and its workers.dev subdomain" },
    { scope: "Account", group: "Workers Tail", access: "Read", for: "logs --follow" },
  ];
  return {
    document: { permissions },
    notes: [
      `for deploying ${formation.app} (${stage}), and plan, ps, scale, logs, run and destroy on it: give the API token these permissions on the account (the "Edit Cloudflare Workers" template, plus Queues: Edit)`,
      "a token's permissions cover every Worker and queue of the account: where that matters, deploy from an account of the app's own",
    ],
  };
}
