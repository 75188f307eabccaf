import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A proxy on 127.0.0.1 in front of moto_server that sees every AWS call a deploy makes, as the
 * Cloudflare stand-in sees Cloudflare's: it counts the mutating ones, and can refuse every
 * mutating call from the n-th on, as if the deploy died there. What a call does is read from
 * the request as AWS's protocols put it: the X-Amz-Target header (JSON: SQS, CloudWatch Logs),
 * the Action parameter (query: IAM, STS), else the HTTP method (REST: Lambda, Scheduler).
 */
export interface AwsProxy {
  endpoint: string;
  /** Mutating calls that got through. */
  readonly writes: number;
  /** Each call, as "Service.Operation" or "METHOD /path", with whether it was a write. */
  readonly calls: { call: string; write: boolean; refused: boolean }[];
  cutWrites(n: number | undefined, spare?: RegExp): void;
  stop(): Promise<void>;
}

const READ = /^(Get|List|Describe|Filter)/;

export async function startAwsProxy(target: string): Promise<AwsProxy> {
  const upstream = new URL(target);
  const calls: { call: string; write: boolean; refused: boolean }[] = [];
  let cut: { at: number; seen: number; spare: RegExp | undefined } | undefined;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const text = body.toString("utf8");
      const target = req.headers["x-amz-target"];
      const action = /(?:^|&)Action=([A-Za-z]+)/.exec(text)?.[1];
      const operation = typeof target === "string" ? target.split(".").at(-1) ?? "" : action;
      const call = operation ?? `${req.method} ${req.url}`;
      const write = operation !== undefined ? !READ.test(operation) : req.method !== "GET" && req.method !== "HEAD";
      const spared = cut?.spare?.test(`${req.url} ${text}`) ?? false;
      const refused = Boolean(write && cut && !spared && ++cut.seen >= cut.at);
      calls.push({ call, write, refused });
      if (refused) {
        // A 400 AWS does not retry, in the shape of its JSON errors.
        res.writeHead(400, { "content-type": "application/x-amz-json-1.1", "x-amzn-errortype": "ValidationException" });
        res.end(JSON.stringify({ __type: "ValidationException", message: `cut: mutating call ${cut?.seen} refused` }));
        return;
      }
      const forward = http.request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on("error", (error) => {
        res.writeHead(502);
        res.end(error.message);
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get writes() {
      return calls.filter((c) => c.write && !c.refused).length;
    },
    get calls() {
      return calls;
    },
    cutWrites(n, spare) {
      cut = n === undefined ? undefined : { at: n, seen: 0, spare };
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
