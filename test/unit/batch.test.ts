import { describe, expect, it } from "vitest";
import { createBatch } from "../../src/runtime/batch.ts";

const incoming = ["a", "b", "c"].map((id, i) => ({ id, body: { n: i }, attempts: 1, timestamp: new Date(0) }));

// Cloudflare Queues' rules, which twelve gives Lambda and the dev broker too.
describe("createBatch", () => {
  it("acknowledges every undecided message when queue() returns, retries them when it throws", () => {
    const { outcomes } = createBatch("q", incoming);
    expect(outcomes(false).map((o) => o.action)).toEqual(["ack", "ack", "ack"]);
    expect(outcomes(true).map((o) => o.action)).toEqual(["retry", "retry", "retry"]);
  });

  it("keeps an explicit ack() when queue() throws afterwards", () => {
    const { batch, outcomes } = createBatch("q", incoming);
    batch.messages[0]!.ack();
    expect(outcomes(true).map((o) => o.action)).toEqual(["ack", "retry", "retry"]);
  });

  it("the first call on a message wins, with its delay", () => {
    const { batch, outcomes } = createBatch("q", incoming);
    batch.messages[0]!.retry({ delaySeconds: 30 });
    batch.messages[0]!.ack();
    batch.messages[1]!.ack();
    batch.messages[1]!.retry();
    expect(outcomes(false).slice(0, 2)).toEqual([{ id: "a", action: "retry", delaySeconds: 30 }, { id: "b", action: "ack" }]);
  });

  it("a call on a message wins over retryAll() and ackAll(), whichever came first", () => {
    const { batch, outcomes } = createBatch("q", incoming);
    batch.retryAll({ delaySeconds: 5 });
    batch.messages[1]!.ack();
    batch.ackAll();
    expect(outcomes(false)).toEqual([
      { id: "a", action: "retry", delaySeconds: 5 },
      { id: "b", action: "ack" },
      { id: "c", action: "retry", delaySeconds: 5 },
    ]);
  });

  it("gives the messages their id, body, attempts and timestamp, and the queue's name", () => {
    const { batch } = createBatch("shop-dev-mailer", incoming);
    expect(batch.queue).toBe("shop-dev-mailer");
    expect(batch.messages.map((m) => [m.id, m.body, m.attempts])).toEqual([["a", { n: 0 }, 1], ["b", { n: 1 }, 1], ["c", { n: 2 }, 1]]);
  });
});
