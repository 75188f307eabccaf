import { defineClock, send } from "twelve";

export default defineClock(async (controller) => {
  const at = new Date(controller.scheduledTime).toISOString();
  console.log(`nightly run for ${at} (${controller.cron})`);
  await send("jobs", { kind: "nightly", at });
});
