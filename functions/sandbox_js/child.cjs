// The javascript sandbox's child: runs one code node's main() and writes one JSON result.
//
// index.mjs starts it under node's permission model (file reads of this script and the working
// directory only, writes to the working directory only, no child processes, workers or native
// addons), with an empty environment, stdin the request ({code, inputs, max_output_bytes}),
// stdout a file for the result and stderr a file for whatever the code prints. It writes
// {"ok": true, "result": ...} or {"ok": false, "error": {"type", "message"}} to fd 1; the code's
// console and process.stdout go to stderr, so a print cannot be mistaken for the result.
'use strict';

const fs = require('fs');
const vm = require('vm');

const SOURCE_NAME = '<code>';
const MAX_MESSAGE_CHARS = 4000;
const MAX_STACK_FRAMES = 5;
const RESULT_FD = 1;

function failure(type, message) {
  let text = String(message);
  if (text.length > MAX_MESSAGE_CHARS) {
    text = text.slice(0, MAX_MESSAGE_CHARS - 15) + ' ... (truncated)';
  }
  return { ok: false, error: { type, message: text } };
}

// `Name: message`, then the user's frames only (no sandbox or node internals).
function describe(error) {
  if (!(error instanceof Error)) {
    return `Uncaught ${typeof error}: ${safeString(error)}`;
  }
  const lines = [`${error.name}: ${error.message}`];
  const frames = String(error.stack || '')
    .split('\n')
    .filter((line) => line.includes(SOURCE_NAME))
    .slice(0, MAX_STACK_FRAMES)
    .map((line) => line.trim().replace(SOURCE_NAME, 'code'));
  if (frames.length) {
    lines.push(...frames.map((frame) => `  ${frame}`));
  }
  return lines.join('\n');
}

function safeString(value) {
  try {
    return String(value);
  } catch (_) {
    return '(unprintable)';
  }
}

function outOfMemory(error) {
  return (
    error instanceof RangeError &&
    /allocation failed|Invalid (array|string|typed array) length/i.test(error.message)
  );
}

async function callMain(code, inputs) {
  let main;
  try {
    // The completion value of the appended expression is main, however it was declared.
    main = vm.runInThisContext(`${code}\n;typeof main === "function" ? main : undefined`, {
      filename: SOURCE_NAME,
    });
  } catch (error) {
    return outOfMemory(error) ? failure('CodeMemoryExceeded', describe(error))
      : failure('CodeError', describe(error));
  }
  if (typeof main !== 'function') {
    return failure('CodeContractError', 'the code must define a function main({...})');
  }
  let result;
  try {
    result = await main(inputs);
  } catch (error) {
    return outOfMemory(error) ? failure('CodeMemoryExceeded', describe(error))
      : failure('CodeError', describe(error));
  }
  if (result === null || typeof result !== 'object' || Array.isArray(result)) {
    const kind = result === null ? 'null' : Array.isArray(result) ? 'an array' : typeof result;
    return failure('CodeContractError', `main() must return an object, it returned ${kind}`);
  }
  return { ok: true, result };
}

function encode(outcome, maxOutputBytes) {
  let text;
  try {
    text = JSON.stringify(outcome);
  } catch (error) {
    return JSON.stringify(
      failure('CodeContractError', `main() returned an object JSON cannot hold: ${error.message}`),
    );
  }
  const size = Buffer.byteLength(text, 'utf8');
  if (outcome.ok && size > maxOutputBytes) {
    return JSON.stringify(
      failure(
        'CodeContractError',
        `main() returned ${size} bytes of JSON, more than the limit of ${maxOutputBytes}`,
      ),
    );
  }
  return text;
}

async function run() {
  const request = JSON.parse(fs.readFileSync(0, 'utf8'));
  const toStderr = process.stderr.write.bind(process.stderr);
  process.stdout.write = toStderr;
  globalThis.console = new console.Console({ stdout: process.stderr, stderr: process.stderr });
  // The event loop ran dry while main() had not settled: its promise can never settle.
  process.on('beforeExit', () => {
    const pending = failure('CodeError', 'main() returned a promise that never settles');
    fs.writeSync(RESULT_FD, JSON.stringify(pending));
    process.exit(0);
  });
  const outcome = await callMain(request.code, request.inputs);
  fs.writeSync(RESULT_FD, encode(outcome, request.max_output_bytes));
  // Timers or handles the code left behind do not keep the process alive.
  process.exit(0);
}

run().catch((error) => {
  fs.writeSync(RESULT_FD, JSON.stringify(failure('CodeError', describe(error))));
  process.exit(0);
});
