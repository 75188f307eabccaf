// `twelve dlq --stage` against the emulators: listing, redriving and purging N dead letters on
// AWS (moto behind nothing: the SDK's own calls) and Cloudflare (the API stand-in).
// npm run bench -- dlq-emulators   (BENCH_DLQ_COUNT=10000 by default; BENCH_DLQ_AWS_COUNT for moto, 0 skips it)
// On Cloudflare the dead-letter queue has the HTTP pull consumer twelve deploy gives it, so the
// listing pulls past peek's first 100; it must show every one and leave every one in the queue.
import { CreateQueueCommand, SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { adapters } from "../adapters/index.ts";
import { cloudflareApi } from "../adapters/cloudflare/client.ts";
import { desiredPullConsumers, pullConsumerBody } from "../adapters/cloudflare/resources/pull-consumer.ts";
import type { DeadLetters } from "../src/adapter.ts";
import { loadConfig } from "../src/config/load.ts";
import type { WorkerProcess } from "../src/formation/types.ts";
import { startCloudflareApi } from "../test/support/cloudflare-api.ts";
import { awsTestEnv, motoClientConfig, startMoto } from "../test/support/moto.ts";
import { removeProject, shopProject } from "../test/support/project.ts";

const fmt = (ms: number) => (ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(1)} s`);

async function time(letters: DeadLetters, mailer: WorkerProcess): Promise<string> {
  let started = performance.now();
  let listed = 0;
  for await (const _ of letters.list(mailer, () => {})) listed++;
  const list = performance.now() - started;
  started = performance.now();
  const { redriven } = await letters.redrive(mailer, undefined, () => {});
  return `list ${fmt(list)} (${listed} shown), redrive ${fmt(performance.now() - started)} (${redriven})`;
}

export async function benchDlqEmulators(): Promise<void> {
  const count = Number(process.env.BENCH_DLQ_COUNT ?? 10_000);
  const awsCount = Number(process.env.BENCH_DLQ_AWS_COUNT ?? count);
  const dir = shopProject();
  try {
    console.log(`\n## twelve dlq --stage against the emulators`);
    // Cloudflare, the API stand-in.
    const cf = await startCloudflareApi();
    try {
      const env = { ...process.env, CLOUDFLARE_API_TOKEN: "t", CLOUDFLARE_ACCOUNT_ID: cf.accountId, CLOUDFLARE_API_BASE_URL: cf.url };
      const { formation } = await loadConfig({ cwd: dir, target: "cloudflare", stage: "bench", adapters });
      const api = cloudflareApi(env, undefined);
      for (const name of ["shop-bench-mailer", "shop-bench-mailer-dlq"]) await api.send("POST", "/queues", { queue_name: name });
      const dlq = cf.queueByName("shop-bench-mailer-dlq")!;
      // As twelve deploy makes it (resources/pull-consumer.ts).
      await api.send("POST", `/queues/${dlq.queue_id}/consumers`, pullConsumerBody(desiredPullConsumers(formation, "bench")[0]!));
      for (let i = 0; i < count; i++) dlq.messages.push({ id: `m${i}`, body: { i }, content_type: "json", delay_seconds: 0, sent_on: new Date().toISOString() });
      const letters = (await adapters.cloudflare.connect(formation, "bench", { env, debug: () => {} })).deadLetters;
      const mailer = formation.processes.find((p) => p.name === "mailer") as WorkerProcess;
      const started = performance.now();
      let listed = 0;
      for await (const _ of letters.list(mailer, () => {})) listed++;
      const list = performance.now() - started;
      const pulls = cf.calls.filter((c) => c.path.endsWith("/messages/pull")).length;
      const kept = dlq.messages.length;
      const leased = dlq.messages.filter((m) => m.lease).length;
      if (listed !== count || kept !== count || leased !== 0) throw new Error(`Cloudflare listing: ${listed} shown, ${kept} kept, ${leased} still leased, of ${count}`);
      console.log(`  Cloudflare (stand-in), ${count.toLocaleString("en")} dead letters: list ${fmt(list)} (${listed} shown in ${pulls} pulls, all kept, none leased); ${await time(letters, mailer)}`);
    } finally {
      await cf.stop();
    }
    // AWS, moto.
    if (awsCount === 0) return;
    const moto = await startMoto();
    try {
      const env = { ...process.env, ...awsTestEnv(moto.endpoint) };
      const { formation } = await loadConfig({ cwd: dir, target: "aws", stage: "bench", adapters });
      const sqs = new SQSClient(motoClientConfig(moto.endpoint));
      await sqs.send(new CreateQueueCommand({ QueueName: "shop-bench-mailer" }));
      const url = (await sqs.send(new CreateQueueCommand({ QueueName: "shop-bench-mailer-dlq" }))).QueueUrl!;
      for (let i = 0; i < awsCount; i += 10) {
        await sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: Array.from({ length: Math.min(10, awsCount - i) }, (_, j) => ({ Id: String(j), MessageBody: JSON.stringify({ i: i + j }) })) }));
      }
      const letters = (await adapters.aws.connect(formation, "bench", { env, debug: () => {} })).deadLetters;
      console.log(`  AWS (moto), ${awsCount.toLocaleString("en")} dead letters: ${await time(letters, formation.processes.find((p) => p.name === "mailer") as WorkerProcess)}`);
    } finally {
      await moto.stop();
    }
  } finally {
    removeProject(dir);
  }
}
