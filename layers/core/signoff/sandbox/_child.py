"""The sandbox's child process: runs one code node's main() under the limits it sets on itself.

python_runner starts it as `python -I -S _child.py <limits JSON>` with an empty environment, a
fresh temporary working directory, stdin the request (`{"code", "inputs", "max_output_bytes"}`),
stdout a file for the result and stderr a file for whatever the code prints. It runs with the
standard library only: neither signoff nor any site-packages directory is on its path.

It writes exactly one JSON line to the result file, `{"ok": true, "result": ...}` or
`{"ok": false, "error": {"type", "message"}}`. What the user's code prints goes to stderr (fd 1 is
pointed there before the code runs), so a print cannot be mistaken for the result.

Before the code runs it also confines itself, each layer where the kernel allows it (see confine):
a new user and network namespace (no network interface but a loopback of its own, no capability
over the host), Landlock (writes only beneath its working directory, reads only beneath the Python
installation and the system's libraries), and a seccomp filter (no socket but AF_UNIX, no
io_uring, no new process or thread). All three hold on the machines the tests run on; where the
kernel refuses one, the others still apply (python_runner says what holds on AWS Lambda).
"""

import contextlib
import ctypes
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


# ---------------------------------------------------------------- confinement

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
# Syscall numbers by architecture: (audit arch, socket, io_uring_setup/enter/register, the
# calls that make a process or thread: clone, clone3, and fork/vfork where they exist).
ARCHITECTURES = {
    "x86_64": (0xC000003E, 41, (425, 426, 427), (56, 435, 57, 58)),
    "aarch64": (0xC00000B7, 198, (425, 426, 427), (220, 435)),
}
X32_SYSCALL_BIT = 0x40000000
SYS_LANDLOCK_CREATE_RULESET = 444
SYS_LANDLOCK_ADD_RULE = 445
SYS_LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1
# Landlock filesystem rights, and the ABI version that introduced each.
LL_EXECUTE, LL_WRITE_FILE, LL_READ_FILE, LL_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
LL_ALL_V1 = (1 << 13) - 1
LL_REFER, LL_TRUNCATE, LL_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
LL_READ = LL_EXECUTE | LL_READ_FILE | LL_READ_DIR
O_PATH = 0o10000000
O_CLOEXEC = 0o2000000
# What the interpreter and its standard library read; everything else is out of reach.
SYSTEM_READ_ROOTS = ("/usr", "/lib", "/lib64", "/bin")


def libc():
    library = ctypes.CDLL(None, use_errno=True)
    library.syscall.restype = ctypes.c_long
    return library


def confine(workdir):
    """Apply every confinement layer the kernel offers; the names of those that hold."""
    applied = []
    library = libc()
    if library.unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0:
        applied.append("namespaces")
    # Landlock and seccomp filters need no privilege once new privileges are ruled out.
    library.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    if restrict_filesystem(library, workdir):
        applied.append("landlock")
    if filter_syscalls(library):
        applied.append("seccomp")
    return applied


class RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64)]


class PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def restrict_filesystem(library, workdir):
    abi = library.syscall(SYS_LANDLOCK_CREATE_RULESET, None, 0, LANDLOCK_CREATE_RULESET_VERSION)
    if abi < 1:
        return False
    handled = LL_ALL_V1
    for version, right in ((2, LL_REFER), (3, LL_TRUNCATE), (5, LL_IOCTL_DEV)):
        if abi >= version:
            handled |= right
    attr = RulesetAttr(handled_access_fs=handled)
    ruleset = library.syscall(
        SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.sizeof(attr), 0
    )
    if ruleset < 0:
        return False
    try:
        readable = {sys.base_prefix, sys.base_exec_prefix, *SYSTEM_READ_ROOTS}
        readable.update(path for path in sys.path if path and not path.endswith(".zip"))
        for path in sorted(readable):
            allow_beneath(library, ruleset, path, LL_READ)
        allow_beneath(library, ruleset, os.devnull, LL_READ_FILE | LL_WRITE_FILE)
        allow_beneath(library, ruleset, workdir, handled)
        return library.syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0) == 0
    finally:
        os.close(ruleset)


def allow_beneath(library, ruleset, path, rights):
    try:
        fd = os.open(path, O_PATH | O_CLOEXEC)
    except OSError:
        return
    try:
        if not os.path.isdir(path):
            # Directory rights do not apply to a file.
            rights &= LL_EXECUTE | LL_WRITE_FILE | LL_READ_FILE | LL_TRUNCATE | LL_IOCTL_DEV
        rule = PathBeneathAttr(allowed_access=rights, parent_fd=fd)
        library.syscall(
            SYS_LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_PATH_BENEATH, ctypes.byref(rule), 0
        )
    finally:
        os.close(fd)


class SockFilter(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_ushort),
        ("jt", ctypes.c_ubyte),
        ("jf", ctypes.c_ubyte),
        ("k", ctypes.c_uint32),
    ]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]


BPF_LD_W_ABS = 0x20
BPF_JEQ_K = 0x15
BPF_JGE_K = 0x35
BPF_RET_K = 0x06
SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_ALLOW = 0x7FFF0000
EACCES = 13
EAGAIN = 11
AF_UNIX = 1


def syscall_filter(arch, socket_nr, io_uring_nrs, process_nrs):
    """The BPF program: AF_UNIX sockets only, no io_uring, no new process or thread (what
    RLIMIT_NPROC does for an unprivileged user, for root too), no foreign syscall ABI."""
    # (code, jump-if-true label, jump-if-false label, k); labels resolve to relative jumps.
    program = [
        ("start", BPF_LD_W_ABS, None, None, 4),  # seccomp_data.arch
        (None, BPF_JEQ_K, None, "kill", arch),
        (None, BPF_LD_W_ABS, None, None, 0),  # seccomp_data.nr
        (None, BPF_JGE_K, "kill", None, X32_SYSCALL_BIT),
        *[(None, BPF_JEQ_K, "deny", None, number) for number in io_uring_nrs],
        *[(None, BPF_JEQ_K, "no_process", None, number) for number in process_nrs],
        (None, BPF_JEQ_K, None, "allow", socket_nr),
        (None, BPF_LD_W_ABS, None, None, 16),  # seccomp_data.args[0]: the address family
        (None, BPF_JEQ_K, "allow", "deny", AF_UNIX),
        ("allow", BPF_RET_K, None, None, SECCOMP_RET_ALLOW),
        ("deny", BPF_RET_K, None, None, SECCOMP_RET_ERRNO | EACCES),
        ("no_process", BPF_RET_K, None, None, SECCOMP_RET_ERRNO | EAGAIN),
        ("kill", BPF_RET_K, None, None, SECCOMP_RET_KILL_PROCESS),
    ]
    labels = {label: index for index, (label, *_rest) in enumerate(program) if label}
    instructions = []
    for index, (_label, code, if_true, if_false, k) in enumerate(program):
        jt = labels[if_true] - index - 1 if if_true else 0
        jf = labels[if_false] - index - 1 if if_false else 0
        instructions.append(SockFilter(code, jt, jf, k))
    return (SockFilter * len(instructions))(*instructions)


def filter_syscalls(library):
    known = ARCHITECTURES.get(os.uname().machine)
    if known is None:
        return False
    filters = syscall_filter(*known)
    program = SockFprog(len(filters), filters)
    return library.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(program), 0, 0) == 0


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
    limits = json.loads(sys.argv[1])
    confine(os.getcwd())
    apply_limits(limits)
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
