import { defineClock, send } from "twelve";

/** Every night at 03:00 Berlin time (summer or winter): queue yesterday's digest mail. */
export default defineClock(async (controller) => {
  const yesterday = new Date(controller.scheduledTime - 24 * 60 * 60 * 1000).toISOString().slice(0, 10);
  console.log(`nightly (${controller.cron}): digest for ${yesterday}`);
  await send("mailer", { kind: "daily-digest", date: yesterday });
});
