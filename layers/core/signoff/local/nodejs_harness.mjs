// Runs one invocation of a nodejs function's handler for the local cloud (signoff.local.functions).
//
// argv: <handler module path> <export name> <context JSON>; stdin: the event. It imports the
// module, awaits handler(event, context) and writes one JSON line to fd 1:
// {"payload": <result>} or {"error": {"errorType", "errorMessage", "trace"}} (Lambda's error
// contract). The handler's console and process.stdout go to stderr, as its logs would.
import { readFileSync, writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [modulePath, exportName, contextJson] = process.argv.slice(2);
const RESULT_FD = 1;

function contextFrom(fields) {
  const deadline = Date.now() + fields.timeoutSeconds * 1000;
  return {
    functionName: fields.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: fields.invokedFunctionArn,
    memoryLimitInMB: String(fields.memoryLimitInMB),
    awsRequestId: fields.awsRequestId,
    logGroupName: `/aws/lambda/${fields.functionName}`,
    logStreamName: fields.logStreamName,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

function errorContract(error) {
  if (error instanceof Error) {
    return {
      errorType: error.name || 'Error',
      errorMessage: error.message,
      trace: String(error.stack || '').split('\n'),
    };
  }
  return { errorType: typeof error, errorMessage: String(error), trace: [] };
}

function answer(outcome) {
  writeSync(RESULT_FD, JSON.stringify(outcome) + '\n');
  process.exit(0);
}

async function invoke() {
  const event = JSON.parse(readFileSync(0, 'utf8'));
  process.stdout.write = process.stderr.write.bind(process.stderr);
  globalThis.console = new console.Console({ stdout: process.stderr, stderr: process.stderr });
  const module = await import(pathToFileURL(modulePath).href);
  const handler = module[exportName];
  if (typeof handler !== 'function') {
    throw Object.assign(new Error(`${modulePath} exports no function ${exportName}`), {
      name: 'Runtime.HandlerNotFound',
    });
  }
  const result = await handler(event, contextFrom(JSON.parse(contextJson)));
  return result === undefined ? null : result;
}

invoke().then(
  (payload) => answer({ payload }),
  (error) => answer({ error: errorContract(error) }),
);
