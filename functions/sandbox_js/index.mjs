// The javascript sandbox function: runs a code node's source with Node.js in a child process.
//
// Its event and answer are the python sandbox's (docs/internals.md, "Function events"):
// {"language": "javascript", "code", "inputs"} in; {"ok": true, "result": {...}} or
// {"ok": false, "error": {"type", "message"}} out, with the same error types. Dify's contract:
// the code defines `function main({a, b}) { return {...}; }` (it may be async).
//
// What is enforced, by whom:
// - node's permission model (child.cjs runs under it) denies child processes, worker threads,
//   native addons and every file read or write outside the child script and a fresh temporary
//   working directory, which is removed afterwards;
// - V8's heap is capped at the memory limit (--max-old-space-size);
// - the environment is empty; this handler enforces the wall clock (the child's whole process
//   group is killed), caps the result and classifies the outcome.
// What is not: CPU time. Node.js cannot set rlimits, so in Lambda the wall clock and the
// function's own timeout bound it (a busy loop ends as CodeTimeout). The local cloud starts this
// handler under rlimits (CPU, address space) that the child inherits. Network access is not
// covered by Node.js 20's permission model; the function's role grants no AWS action.
//
// Plain Node.js, no npm dependencies.
import { spawn } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CHILD_SCRIPT = fileURLToPath(new URL('./child.cjs', import.meta.url));
const STDERR_TAIL_BYTES = 2000;
const OUT_OF_MEMORY =
  /heap out of memory|Fatal process out of memory|Fatal process OOM|Failed to reserve/;

// The deployment's limits (the python sandbox reads the same variables through Settings).
function limitsFrom(environment) {
  const number = (name, fallback) => {
    const value = Number(environment[name] ?? fallback);
    if (!Number.isFinite(value) || value <= 0) {
      throw new RangeError(`${name} must be a positive number, not ${environment[name]}`);
    }
    return value;
  };
  return {
    memoryMb: Math.floor(number('SIGNOFF_SANDBOX_MEMORY_MB', 256)),
    wallSeconds: number('SIGNOFF_SANDBOX_WALL_SECONDS', 10),
    maxOutputBytes: Math.floor(number('SIGNOFF_SANDBOX_MAX_OUTPUT_BYTES', 1000000)),
  };
}

const limits = limitsFrom(process.env);

function failure(type, message) {
  return { ok: false, error: { type, message } };
}

export async function handler(event) {
  if (event === null || typeof event !== 'object' || typeof event.code !== 'string') {
    throw new TypeError('the sandbox event must be {"language", "code", "inputs"}');
  }
  const inputs = event.inputs ?? {};
  if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs)) {
    throw new TypeError('the sandbox event\'s inputs must be an object');
  }
  if (event.language !== 'javascript') {
    return failure(
      'CodeContractError',
      `code language ${JSON.stringify(event.language)} is not supported here ` +
        '(supported: javascript)',
    );
  }
  return runJavascript(event.code, inputs, limits);
}

export async function runJavascript(code, inputs, { memoryMb, wallSeconds, maxOutputBytes }) {
  const root = mkdtempSync(join(tmpdir(), 'signoff-sandbox-js-'));
  try {
    const workdir = join(root, 'work');
    const requestPath = join(root, 'request.json');
    const resultPath = join(root, 'result.json');
    const stderrPath = join(root, 'stderr.txt');
    mkdirSync(workdir);
    writeFileSync(requestPath, JSON.stringify({ code, inputs, max_output_bytes: maxOutputBytes }));
    const args = [
      permissionFlag(process.versions.node),
      `--allow-fs-read=${CHILD_SCRIPT}`,
      `--allow-fs-read=${workdir}`,
      `--allow-fs-write=${workdir}`,
      '--no-warnings',
      `--max-old-space-size=${memoryMb}`,
      CHILD_SCRIPT,
    ];
    const { code: exitCode, signal, timedOut } = await runChild(args, {
      workdir,
      requestPath,
      resultPath,
      stderrPath,
      wallSeconds,
    });
    return classify(
      { exitCode, signal, timedOut },
      { resultPath, stderrPath },
      { memoryMb, wallSeconds, maxOutputBytes },
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

// Node.js 22.13 made the permission model stable (and renamed its flag); 20 has it experimental.
function permissionFlag(version) {
  const [major, minor] = version.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 13) ? '--permission' : '--experimental-permission';
}

function runChild(args, { workdir, requestPath, resultPath, stderrPath, wallSeconds }) {
  const stdin = openSync(requestPath, 'r');
  const stdout = openSync(resultPath, 'w');
  const stderr = openSync(stderrPath, 'w');
  return new Promise((resolve, reject) => {
    let timedOut = false;
    // Its own process group, so the wall clock takes down anything it left behind too.
    const child = spawn(process.execPath, args, {
      cwd: workdir,
      env: {},
      stdio: [stdin, stdout, stderr],
      detached: true,
    });
    const killGroup = () => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, wallSeconds * 1000);
    const done = () => {
      clearTimeout(timer);
      for (const fd of [stdin, stdout, stderr]) closeSync(fd);
    };
    child.once('error', (error) => {
      done();
      reject(error);
    });
    child.once('exit', (code, signal) => {
      done();
      if (child.pid !== undefined) killGroup();
      resolve({ code, signal, timedOut });
    });
  });
}

function classify(
  { exitCode, signal, timedOut },
  { resultPath, stderrPath },
  { memoryMb, wallSeconds, maxOutputBytes },
) {
  if (timedOut) {
    return failure('CodeTimeout', `the code did not finish within ${wallSeconds} s (wall clock)`);
  }
  // Only where an rlimit is set (the local cloud): the soft CPU limit's signal.
  if (signal === 'SIGXCPU') {
    return failure('CodeCpuExceeded', 'the code used more than its limit of CPU time');
  }
  const reported = readResult(resultPath, maxOutputBytes);
  if (reported !== null) return reported;

  const stderr = readHead(stderrPath, 1024 * 1024);
  if (OUT_OF_MEMORY.test(stderr)) {
    return failure('CodeMemoryExceeded', `the code ran out of memory (limit ${memoryMb} MB)`);
  }
  const how = signal ? `was killed by ${signal}` : `exited with status ${exitCode}`;
  let message = `the code's process ${how} before main() returned`;
  const tail = readTail(stderrPath, STDERR_TAIL_BYTES).trim();
  if (tail) message += `; its last output:\n${tail}`;
  return failure('CodeError', message);
}

function readResult(resultPath, maxOutputBytes) {
  const size = statSync(resultPath).size;
  if (size === 0) return null;
  if (size > maxOutputBytes + STDERR_TAIL_BYTES) {
    return failure(
      'CodeContractError',
      `the result is larger than the limit of ${maxOutputBytes} bytes`,
    );
  }
  let outcome;
  try {
    outcome = JSON.parse(readFileSync(resultPath, 'utf8'));
  } catch {
    return null;
  }
  return wellFormed(outcome) ? outcome : null;
}

function wellFormed(outcome) {
  if (outcome === null || typeof outcome !== 'object') return false;
  if (outcome.ok === true) {
    const { result } = outcome;
    return result !== null && typeof result === 'object' && !Array.isArray(result);
  }
  const { error } = outcome;
  return (
    outcome.ok === false &&
    error !== null &&
    typeof error === 'object' &&
    typeof error.type === 'string' &&
    typeof error.message === 'string'
  );
}

function readHead(path, bytes) {
  const size = statSync(path).size;
  const buffer = Buffer.alloc(Math.min(size, bytes));
  const fd = openSync(path, 'r');
  try {
    readSyncFully(fd, buffer, 0);
  } finally {
    closeSync(fd);
  }
  return buffer.toString('utf8');
}

function readTail(path, bytes) {
  const size = statSync(path).size;
  const start = Math.max(0, size - bytes);
  const buffer = Buffer.alloc(size - start);
  const fd = openSync(path, 'r');
  try {
    readSyncFully(fd, buffer, start);
  } finally {
    closeSync(fd);
  }
  return buffer.toString('utf8');
}

function readSyncFully(fd, buffer, position) {
  let read = 0;
  while (read < buffer.length) {
    const count = readSync(fd, buffer, read, buffer.length - read, position + read);
    if (count === 0) break;
    read += count;
  }
}
