// Runs inside the Worker. Cloudflare fires the clock at UTC times that over-approximate the
// schedule (see ../schedule.ts); this gate decides whether the job is really due in its own
// time zone, by the rules in src/formation/zoned.ts.
export { runsAt as shouldRun } from "../../../src/formation/zoned.ts";
