import http from "node:http";
import type { AddressInfo } from "node:net";
import { decodeAwsRequest, type AwsCall } from "./aws-requests.ts";
import { validateCall } from "./aws-validation.ts";

/**
 * A proxy on 127.0.0.1 in front of moto_server that sees every AWS call a deploy makes, as the
 * Cloudflare stand-in sees Cloudflare's. Each request is decoded with AWS's own service models
 * (aws-requests.ts) and its input checked against them (aws-validation.ts): a request AWS would refuse (a missing
 * member, a value out of range, off its pattern) is answered as AWS answers it, a 400
 * ValidationException, and kept in `violations`, since moto would have taken it. It also counts
 * the mutating calls, and can refuse every mutating call from the n-th on, as if the deploy
 * died there.
 */
export interface AwsProxy {
  endpoint: string;
  /** Mutating calls that got through. */
  readonly writes: number;
  /** Each call, as "Operation" (or "METHOD /path" for REST), with whether it was a write, and what it was. */
  readonly calls: ProxiedCall[];
  /** Requests AWS would refuse, or that could not be read as any operation, one line each. */
  readonly violations: string[];
  cutWrites(n: number | undefined, spare?: RegExp): void;
  stop(): Promise<void>;
}

export interface ProxiedCall {
  call: string;
  write: boolean;
  refused: boolean;
  /** The operation and input, as the service model names them. */
  request?: AwsCall;
  /** moto's answer, when it is a JSON object (event source mappings name their function only there). */
  response?: unknown;
  status?: number;
}

const READ = /^(Get|List|Describe|Filter)/;

export async function startAwsProxy(target: string): Promise<AwsProxy> {
  const upstream = new URL(target);
  const calls: ProxiedCall[] = [];
  const violations: string[] = [];
  let cut: { at: number; seen: number; spare: RegExp | undefined } | undefined;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const text = body.toString("utf8");
      const decoded = decodeAwsRequest({ method: req.method ?? "GET", url: req.url ?? "/", headers: req.headers, body });
      const request = "undecoded" in decoded ? undefined : decoded;
      const problems = request ? validateCall(request) : [`could not read the request as an AWS operation: ${"undecoded" in decoded ? decoded.undecoded : ""}`];
      violations.push(...problems);
      const operation = request?.operation;
      const isRest = request?.service === "lambda" || request?.service === "scheduler";
      const call = operation && !isRest ? operation : `${req.method} ${req.url}`;
      const write = operation !== undefined ? !READ.test(operation) : req.method !== "GET" && req.method !== "HEAD";
      const spared = cut?.spare?.test(`${req.url} ${text}`) ?? false;
      const refused = Boolean(write && cut && !spared && ++cut.seen >= cut.at);
      const entry: ProxiedCall = { call, write, refused, ...(request ? { request } : {}) };
      calls.push(entry);
      if (problems.length) return refuse(res, request?.service, problems.join("; "));
      // A 400 AWS does not retry.
      if (refused) return refuse(res, request?.service, `cut: mutating call ${cut?.seen} refused`);
      const forward = http.request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on("data", (part: Buffer) => parts.push(part));
          answer.on("end", () => {
            const reply = Buffer.concat(parts);
            entry.status = answer.statusCode ?? 502;
            // moto does not always say its JSON answers are JSON.
            if (reply[0] === 0x7b) {
              try {
                entry.response = JSON.parse(reply.toString("utf8"));
              } catch {
                // not JSON after all: nothing to keep
              }
            }
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(reply);
          });
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
    get violations() {
      return violations;
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

/** A ValidationException in the shape of the service's protocol: XML for the query services (IAM, STS), JSON otherwise. */
function refuse(res: http.ServerResponse, service: string | undefined, message: string): void {
  if (service === "iam" || service === "sts") {
    const escaped = message.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
    res.writeHead(400, { "content-type": "text/xml" });
    res.end(`<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>${escaped}</Message></Error><RequestId>twelve-proxy</RequestId></ErrorResponse>`);
    return;
  }
  res.writeHead(400, { "content-type": "application/x-amz-json-1.1", "x-amzn-errortype": "ValidationException" });
  res.end(JSON.stringify({ __type: "ValidationException", message }));
}
