import { failure, type TwelveError } from "../../../src/errors.ts";
import type { QueueView, ScriptView } from "./common.ts";

// Whose a Worker script or a queue is. Names are `<app>-<stage>-<process>`, and two stages' names
// can meet (app "a" stage "b" with process "c-web", app "a-b" stage "c" with process "web" both
// make "a-b-c-web"), so a name alone never says a resource is this stage's. A script says it
// with its tags; a queue carries no tags, so the Workers that use it say it.

export interface StageRef {
  app: string;
  stage: string;
}

export type Ownership = { ours: true } | { ours: false; owner: string };
const OURS: Ownership = { ours: true };

const prefixOf = (s: StageRef) => `${s.app}-${s.stage}-`;
const same = (a: StageRef, b: StageRef) => a.app === b.app && a.stage === b.stage;
const named = (s: StageRef) => `app "${s.app}" stage "${s.stage}"`;

/** The stage a script's twelve-app and twelve-stage tags name, if it has them. */
export function scriptStage(script: ScriptView): StageRef | undefined {
  const tag = (start: string) => script.tags?.find((t) => t.startsWith(start))?.slice(start.length);
  const app = tag("twelve-app:");
  const stage = tag("twelve-stage:");
  return app && stage ? { app, stage } : undefined;
}

/** Another twelve stage of the account (by its Workers' tags) whose names this name fits too. */
function otherStageFitting(name: string, scripts: ScriptView[], me: StageRef): StageRef | undefined {
  for (const script of scripts) {
    const stage = scriptStage(script);
    if (stage && !same(stage, me) && name.startsWith(prefixOf(stage))) return stage;
  }
  return undefined;
}

/**
 * A script is the stage its tags name. An untagged one (an upload whose tagging was cut short)
 * is this stage's when its name is of this stage and fits no other stage's names.
 */
export function scriptOwnership(script: ScriptView, scripts: ScriptView[], me: StageRef): Ownership {
  const tagged = scriptStage(script);
  if (tagged) return same(tagged, me) ? OURS : { ours: false, owner: `${named(tagged)}'s (by its tags)` };
  const name = script.id ?? "";
  if (!name.startsWith(prefixOf(me))) return { ours: false, owner: "not twelve's" };
  const other = otherStageFitting(name, scripts, me);
  return other ? { ours: false, owner: `untagged, and named as ${named(other)} names its Workers` } : OURS;
}

/**
 * A queue is the stage of the Workers that use it: consume it, send to it, or name it as their
 * dead-letter queue. One that no Worker uses (kept for its messages, or made by a deploy cut
 * short) is this stage's when its name is of this stage and fits no other stage's names. A
 * name whose process part has "--" (or starts with "-") is a deploy lock's, never a process's.
 */
export function queueOwnership(name: string, queues: QueueView[], scripts: ScriptView[], me: StageRef): Ownership {
  const rest = name.slice(prefixOf(me).length);
  if (!name.startsWith(prefixOf(me)) || rest.startsWith("-") || rest.includes("--")) return { ours: false, owner: "not named as this stage's queues are" };
  const queue = queues.find((q) => q.queue_name === name);
  const users = new Set<string>();
  for (const c of queue?.consumers ?? []) if ("script_name" in c && c.script_name) users.add(c.script_name);
  for (const p of queue?.producers ?? []) if ("script" in p && p.script) users.add(p.script);
  for (const q of queues) {
    for (const c of q.consumers ?? []) if (c.dead_letter_queue === name && "script_name" in c && c.script_name) users.add(c.script_name);
  }
  for (const user of users) {
    const script = scripts.find((s) => s.id === user) ?? { id: user, tags: [] };
    const owner = scriptOwnership(script, scripts, me);
    if (!owner.ours) return { ours: false, owner: `used by the Worker ${user}, which is ${owner.owner}` };
  }
  if (users.size) return OURS;
  const other = otherStageFitting(name, scripts, me);
  return other ? { ours: false, owner: `used by no Worker, and named as ${named(other)} names its queues` } : OURS;
}

/** The refusal when a name this stage wants is another's; marked `taken`, so that its hint is kept. */
export function takenError(me: StageRef, what: string, name: string, owner: string): TwelveError {
  return Object.assign(
    failure(
      `the ${what} ${name} already exists and is ${owner}, not ${named(me)}'s: twelve leaves it as it is`,
      "It has the name this stage would give one of its own (<app>-<stage>-<process>). Rename the process, the app or the stage so that the names differ.",
    ),
    { taken: true },
  );
}
