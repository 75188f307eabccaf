import { defineWorker } from "twelve";

type Mail =
  | { kind: "order-confirmation"; orderId: string; email: string; items: { sku: string; quantity: number }[] }
  | { kind: "daily-digest"; date: string };

/**
 * Sends mail. A throw retries the message (up to maxRetries, then the dead-letter queue), so
 * a mail provider's outage costs time, not orders.
 */
export default defineWorker<Mail>(async (mail, message, env) => {
  const provider = env.MAIL_API_KEY ? "provider" : "log (MAIL_API_KEY not set)";
  if (mail.kind === "order-confirmation") {
    if (mail.email.endsWith("@bounce.invalid")) throw new Error(`mailbox ${mail.email} bounced`);
    const count = mail.items.reduce((n, item) => n + item.quantity, 0);
    console.log(`[${provider}] to ${mail.email}: order ${mail.orderId} confirmed, ${count} item(s) (attempt ${message.attempts})`);
    return;
  }
  if (mail.kind === "daily-digest") {
    console.log(`[${provider}] to ops: digest for ${mail.date}`);
    return;
  }
  // Retrying would not help a message nobody understands: log it and let it go.
  console.error(`mailer: unknown message ${message.id}: ${JSON.stringify(mail)}`);
});
