"""Starts a local nodejs function's process: lowers this process's limits, then execs the command.

signoff.local.functions starts it as `python -I -S _rlimit_launcher.py <spec JSON> <command...>`,
where the spec holds the limits and the environment the command gets (nothing else of this
interpreter's, not even PEP 538's LC_CTYPE). The limits hold across exec, for the command and
every process it starts; a separate process (rather than a preexec hook in the parent) keeps the
parent's threads out of it. Standard library only.
"""

import json
import os
import resource
import sys


def lower(kind, soft, hard=None):
    hard = soft if hard is None else hard
    _, current_hard = resource.getrlimit(kind)
    if current_hard != resource.RLIM_INFINITY:
        hard = min(hard, current_hard)
        soft = min(soft, hard)
    resource.setrlimit(kind, (soft, hard))


def main():
    spec = json.loads(sys.argv[1])
    command = sys.argv[2:]
    limits = spec["limits"]
    cpu = limits["cpu_seconds"]
    # Soft: SIGXCPU (node does not handle it: it dies). Hard, a second later: SIGKILL.
    lower(resource.RLIMIT_CPU, cpu, cpu + 1)
    lower(resource.RLIMIT_AS, limits["address_space_bytes"])
    lower(resource.RLIMIT_CORE, 0)
    os.execve(command[0], command, spec["environment"])


if __name__ == "__main__":
    main()
