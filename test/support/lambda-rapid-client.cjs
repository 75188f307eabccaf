// Preloaded (node --require) into a function process run by aws-lambda-ric. The ric loads its
// native Runtime API client, rapid-client.node, even when AWS_LAMBDA_NODEJS_USE_ALTERNATIVE_CLIENT_1
// makes it fetch invocations over Node's http: it still posts buffered results and errors through
// the addon. The addon is built by the ric's install script, which this project does not run. This
// stands in for the addon alone (the same three calls, and synchronous like it: the C++ client
// blocks on curl), so everything else that runs is AWS's code: the handler loader, the
// awslambda global, response streaming, error formatting.
"use strict";
const Module = require("node:module");
const { Worker } = require("node:worker_threads");

const api = process.env.AWS_LAMBDA_RUNTIME_API;

// A thread does the HTTP request while this one waits on a shared flag: a blocking POST.
const poster = new Worker(
  `const { parentPort } = require("node:worker_threads");
   parentPort.on("message", async ({ url, headers, body, flag }) => {
     const state = new Int32Array(flag);
     try {
       const response = await fetch(url, { method: "POST", headers, body });
       await response.arrayBuffer();
       Atomics.store(state, 0, response.ok ? 1 : 2);
     } catch {
       Atomics.store(state, 0, 2);
     }
     Atomics.notify(state, 0);
   });`,
  { eval: true },
);
poster.unref();

function postSync(path, body, headers) {
  const flag = new SharedArrayBuffer(4);
  poster.postMessage({ url: `http://${api}${path}`, headers: { "content-type": "application/json", ...headers }, body, flag });
  Atomics.wait(new Int32Array(flag), 0, 0);
}

const standIn = {
  next() {
    throw new Error("the rapid-client stand-in only posts: set AWS_LAMBDA_NODEJS_USE_ALTERNATIVE_CLIENT_1=true");
  },
  // The ric passes the request id already URI-encoded, as the addon expects.
  done(id, body) {
    postSync(`/2018-06-01/runtime/invocation/${id}/response`, body, {});
  },
  error(id, body, xrayCause) {
    const errorType = JSON.parse(body).errorType ?? "Unknown";
    postSync(`/2018-06-01/runtime/invocation/${id}/error`, body, {
      "lambda-runtime-function-error-type": errorType,
      ...(xrayCause ? { "lambda-runtime-function-xray-error-cause": xrayCause } : {}),
    });
  },
};

const load = Module._load;
Module._load = function (request, parent, isMain) {
  if (request === "./rapid-client.node" && parent?.filename?.includes("aws-lambda-ric")) return standIn;
  return load.call(this, request, parent, isMain);
};
