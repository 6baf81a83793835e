"""The sandbox's child process: runs one code node's main() under the limits it sets on itself.

python_runner starts it as `python -I -S _child.py <limits JSON>` with an empty environment, a
fresh temporary working directory, stdin the request (`{"code", "inputs", "max_output_bytes"}`),
stdout a file for the result and stderr a file for whatever the code prints. It runs with the
standard library only: neither signoff nor any site-packages directory is on its path.

It writes exactly one JSON line to the result file, `{"ok": true, "result": ...}` or
`{"ok": false, "error": {"type", "message"}}`. What the user's code prints goes to stderr (fd 1 is
pointed there before the code runs), so a print cannot be mistaken for the result.
"""

import contextlib
import inspect
import json
import linecache
import os
import resource
import signal
import sys
import traceback

SOURCE_NAME = "<code>"
MAX_TRACEBACK_FRAMES = 5
# Released when an allocation fails, so the failure can still be reported under the memory limit.
RESERVE_BYTES = 1 << 20
MAX_MESSAGE_CHARS = 4000


def apply_limits(limits):
    """Lower this process's limits; they hold for everything it runs from here on."""
    cpu = limits["cpu_seconds"]
    # Soft limit: SIGXCPU (kills by default). Hard limit one second later: SIGKILL, for code that
    # catches or ignores SIGXCPU.
    lower(resource.RLIMIT_CPU, cpu, cpu + 1)
    lower(resource.RLIMIT_AS, limits["memory_bytes"])
    lower(resource.RLIMIT_FSIZE, limits["file_bytes"])
    lower(resource.RLIMIT_NOFILE, limits["open_files"])
    lower(resource.RLIMIT_CORE, 0)
    # No new processes or threads. The kernel does not enforce this for root (or a process with
    # CAP_SYS_RESOURCE / CAP_SYS_ADMIN); Lambda runs functions as an unprivileged user.
    lower(resource.RLIMIT_NPROC, 0)
    # A write beyond RLIMIT_FSIZE then fails with an OSError the code sees, instead of a signal.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def lower(kind, soft, hard=None):
    hard = soft if hard is None else hard
    _, current_hard = resource.getrlimit(kind)
    if current_hard != resource.RLIM_INFINITY:
        hard = min(hard, current_hard)
        soft = min(soft, hard)
    resource.setrlimit(kind, (soft, hard))


def failure(error_type, message):
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[: MAX_MESSAGE_CHARS - 15] + " ... (truncated)"
    return {"ok": False, "error": {"type": error_type, "message": message}}


def describe(exc):
    """`Type: message`, then a short traceback of the user's code only (no sandbox frames)."""
    if isinstance(exc, SyntaxError):
        text = f"{type(exc).__name__}: {exc.msg} (line {exc.lineno})"
        return f"{text}\n    {exc.text.strip()}" if exc.text else text
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    frames = [
        frame for frame in traceback.extract_tb(exc.__traceback__) if frame.filename == SOURCE_NAME
    ][-MAX_TRACEBACK_FRAMES:]
    if frames:
        lines = [text, "Traceback (most recent call last):"]
        for frame in frames:
            lines.append(f"  line {frame.lineno}, in {frame.name}")
            if frame.line:
                lines.append(f"    {frame.line}")
        text = "\n".join(lines)
    return text


def run(code, inputs, max_output_bytes):
    """The outcome of one run, as the JSON text to write. Memory failures are reported after the
    failing frames are gone, so the report itself has memory to work with."""
    reserve = bytearray(RESERVE_BYTES)
    try:
        outcome = call_main(code, inputs)
        if outcome.get("ok"):
            text = encode_result(outcome["result"], max_output_bytes)
        else:
            text = json.dumps(outcome)
    except MemoryError:
        text = None
    if text is None:
        del reserve
        text = json.dumps(failure("CodeMemoryExceeded", "the code ran out of memory (MemoryError)"))
    return text


def call_main(code, inputs):
    linecache.cache[SOURCE_NAME] = (len(code), None, code.splitlines(True), SOURCE_NAME)
    namespace = {"__name__": "__sandbox__", "__builtins__": __builtins__}
    try:
        exec(compile(code, SOURCE_NAME, "exec"), namespace)
    except MemoryError:
        raise
    except BaseException as exc:
        return failure("CodeError", describe(exc))

    main = namespace.get("main")
    if not callable(main):
        return failure("CodeContractError", "the code must define a function main(...)")
    try:
        inspect.signature(main).bind(**inputs)
    except TypeError as exc:
        names = ", ".join(inputs) or "none"
        return failure(
            "CodeContractError",
            f"main() cannot take the node's variables ({names}) as keyword arguments: {exc}",
        )
    except ValueError:
        pass  # no signature to check (a builtin): the call itself will tell

    try:
        result = main(**inputs)
    except MemoryError:
        raise
    except BaseException as exc:
        return failure("CodeError", describe(exc))
    if not isinstance(result, dict):
        return failure(
            "CodeContractError", f"main() must return a dict, it returned {type(result).__name__}"
        )
    return {"ok": True, "result": result}


def encode_result(result, max_output_bytes):
    try:
        # ASCII escapes: a lone surrogate in a string cannot break the write.
        text = json.dumps({"ok": True, "result": result}, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        return json.dumps(
            failure("CodeContractError", f"main() returned a dict JSON cannot hold: {exc}")
        )
    size = len(text)
    if size > max_output_bytes:
        return json.dumps(
            failure(
                "CodeContractError",
                f"main() returned {size} bytes of JSON, more than the limit of {max_output_bytes}",
            )
        )
    return text


def main():
    apply_limits(json.loads(sys.argv[1]))
    # Started with no environment at all; the one variable left is the interpreter's own doing
    # (PEP 538 locale coercion under the C locale), removed so the code sees an empty environment.
    os.environ.pop("LC_CTYPE", None)
    # The result goes to a private copy of fd 1 (not inherited: os.dup makes it close-on-exec);
    # fd 1 itself then points at stderr, with everything the code prints.
    result_stream = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    request = json.load(sys.stdin)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.umask(0o077)

    text = run(request["code"], request["inputs"], request["max_output_bytes"])
    result_stream.write(text)
    result_stream.flush()
    # What the code printed is best effort (it may have hit the file size limit).
    with contextlib.suppress(BaseException):
        sys.stdout.flush()
    # Skip interpreter shutdown: atexit hooks or __del__ methods the code left behind do not run.
    os._exit(0)


if __name__ == "__main__":
    main()
