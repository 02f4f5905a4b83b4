// fanoutsim's Node.js runtime for one execution environment: load the handler, then loop
// on the Lambda Runtime API (next, then response or error), as Lambda's own runtime does.
// Runs as its own process with the environment Lambda gives a function
// (AWS_LAMBDA_RUNTIME_API, _HANDLER, LAMBDA_TASK_ROOT...). No dependencies: node:http with
// one kept-alive connection (fetch costs about half a millisecond more per call).
import { existsSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [host, port] = (process.env.AWS_LAMBDA_RUNTIME_API || "").split(":");
const base = "/2018-06-01/runtime";
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

// One request to the Runtime API: resolves to { status, headers, body } (body a string).
function request(method, where, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(body);
    const sent = data ? { ...headers, "Content-Length": data.length } : headers;
    const req = http.request(
      { host, port, method, path: `${base}${where}`, agent, headers: sent },
      (res) => {
        const chunks = [];
        res.on("data", (chunk) => chunks.push(chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
      },
    );
    req.on("error", reject);
    req.end(data);
  });
}

function errorBody(error, type) {
  const err = error instanceof Error ? error : new Error(String(error));
  return JSON.stringify({
    errorType: type || err.name || "Error",
    errorMessage: err.message,
    stackTrace: String(err.stack || "").split("\n"),
  });
}

async function post(where, body, type) {
  const headers = { "Content-Type": "application/json" };
  if (type) headers["Lambda-Runtime-Function-Error-Type"] = type;
  await request("POST", where, body, headers);
}

async function initError(error, type) {
  await post("/init/error", errorBody(error, type), type);
  process.exit(1);
}

async function load() {
  const spec = process.env._HANDLER || "";
  const dot = spec.lastIndexOf(".");
  const file = spec.slice(0, dot);
  const name = spec.slice(dot + 1);
  const root = process.env.LAMBDA_TASK_ROOT || ".";
  const found = [".mjs", ".js", ".cjs"].map((ext) => path.join(root, file + ext)).find(existsSync);
  if (!found) {
    const error = new Error(`Cannot find module '${file}'`);
    error.name = "Runtime.ImportModuleError";
    return initError(error, "Runtime.ImportModuleError");
  }
  let loaded;
  try {
    loaded = await import(pathToFileURL(found).href);
  } catch (error) {
    const type = error instanceof SyntaxError ? "Runtime.UserCodeSyntaxError" : "Runtime.ImportModuleError";
    return initError(error, type);
  }
  const handler = loaded[name] ?? loaded.default?.[name];
  if (typeof handler !== "function") {
    const error = new Error(`${file}.${name} is undefined or not exported`);
    error.name = "Runtime.HandlerNotFound";
    return initError(error, "Runtime.HandlerNotFound");
  }
  return handler;
}

function run(handler, event, context) {
  if (handler.length >= 3) {
    return new Promise((resolve, reject) => {
      handler(event, context, (error, result) => (error ? reject(error) : resolve(result)));
    });
  }
  return Promise.resolve().then(() => handler(event, context));
}

const handler = await load();
for (;;) {
  const next = await request("GET", "/invocation/next");
  const requestId = next.headers["lambda-runtime-aws-request-id"];
  const deadline = Number(next.headers["lambda-runtime-deadline-ms"]);
  process.env._X_AMZN_TRACE_ID = next.headers["lambda-runtime-trace-id"] || "";
  const event = JSON.parse(next.body || "null");
  const context = {
    awsRequestId: requestId,
    invokedFunctionArn: next.headers["lambda-runtime-invoked-function-arn"],
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    const result = await run(handler, event, context);
    await post(`/invocation/${requestId}/response`, JSON.stringify(result ?? null));
  } catch (error) {
    await post(`/invocation/${requestId}/error`, errorBody(error), "Unhandled");
  }
}
