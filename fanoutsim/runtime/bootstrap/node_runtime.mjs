// fanoutsim's Node.js runtime for one execution environment: load the handler, then loop
// on the Lambda Runtime API (next, then response or error), as Lambda's own runtime does.
// Runs as its own process with the environment Lambda gives a function
// (AWS_LAMBDA_RUNTIME_API, _HANDLER, LAMBDA_TASK_ROOT...). No dependencies: Node's fetch.
import { existsSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const api = `http://${process.env.AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime`;

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
  const answer = await fetch(`${api}${where}`, { method: "POST", body, headers });
  await answer.arrayBuffer();
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
  const next = await fetch(`${api}/invocation/next`);
  const requestId = next.headers.get("Lambda-Runtime-Aws-Request-Id");
  const deadline = Number(next.headers.get("Lambda-Runtime-Deadline-Ms"));
  process.env._X_AMZN_TRACE_ID = next.headers.get("Lambda-Runtime-Trace-Id") || "";
  const event = JSON.parse((await next.text()) || "null");
  const context = {
    awsRequestId: requestId,
    invokedFunctionArn: next.headers.get("Lambda-Runtime-Invoked-Function-Arn"),
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
