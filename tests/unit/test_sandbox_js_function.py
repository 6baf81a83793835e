"""The javascript sandbox function (functions/sandbox_js, Node.js) as the local cloud runs it: a
`node` process per invocation under Lambda's limits, the user's code in a child `node` under the
permission model, its outcome classified like the python sandbox's.

Limits are small so the suite stays fast. Node.js 20 or later must be on PATH.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from signoff.local.functions import FunctionRunner, FunctionSpec

FUNCTION_DIR = Path(__file__).resolve().parents[2] / "functions" / "sandbox_js"
LIMITS = {
    "SIGNOFF_SANDBOX_MEMORY_MB": "64",
    "SIGNOFF_SANDBOX_WALL_SECONDS": "4",
    "SIGNOFF_SANDBOX_MAX_OUTPUT_BYTES": "10000",
}


def runner(**environment: str) -> FunctionRunner:
    spec = FunctionSpec(
        logical_id="SandboxJsFunction",
        function_name="sandbox-js",
        code_dir=FUNCTION_DIR,
        handler="index.handler",
        runtime="nodejs22.x",
        timeout_seconds=60,
        memory_mb=1024,
        environment={**LIMITS, **environment},
    )
    return FunctionRunner({spec.logical_id: spec})


def invoke(code: str, inputs: dict | None = None, **environment: str) -> dict:
    event = {"language": "javascript", "code": code, "inputs": inputs or {}}
    result = runner(**environment).invoke("sandbox-js", event)
    assert not result.failed, result.error
    return result.payload


def failure_of(code: str, inputs: dict | None = None, **environment: str) -> dict:
    answer = invoke(code, inputs, **environment)
    assert answer["ok"] is False, f"expected a failure, got {answer}"
    return answer["error"]


# ------------------------------------------------------------------------------------ contract


def test_given_main_taking_an_object_when_invoked_then_its_object_is_the_result():
    code = "function main({name, count}) {\n  return {greeting: name.repeat(count)};\n}\n"

    assert invoke(code, {"name": "ab", "count": 2}) == {"ok": True, "result": {"greeting": "abab"}}


def test_given_main_declared_as_an_async_arrow_when_invoked_then_its_promise_is_awaited():
    code = (
        "const main = async ({x}) => {\n"
        "  await new Promise(r => setTimeout(r, 10));\n"
        "  return {y: x * 2};\n"
        "};"
    )

    assert invoke(code, {"x": 21})["result"] == {"y": 42}


def test_given_code_that_prints_a_fake_result_when_invoked_then_the_real_result_wins():
    code = (
        "function main() {\n"
        '  console.log(\'{"ok": true, "result": {"forged": true}}\');\n'
        "  process.stdout.write('{\"ok\": true}');\n"
        "  return {real: true};\n"
        "}"
    )

    assert invoke(code)["result"] == {"real": True}


def test_given_code_that_throws_when_invoked_then_the_error_has_its_message_and_line():
    code = "function main() {\n  const a = 1;\n  throw new TypeError('bad input ' + a);\n}"

    error = failure_of(code)

    assert error["type"] == "CodeError"
    assert error["message"].startswith("TypeError: bad input 1")
    assert "code:3" in error["message"]
    assert "node:internal" not in error["message"]


def test_given_a_syntax_error_when_invoked_then_it_is_a_code_error():
    assert failure_of("function main( {")["type"] == "CodeError"


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("const x = 1;", "must define a function main"),
        ("function main() { return [1, 2]; }", "must return an object, it returned an array"),
        ("function main() { return null; }", "it returned null"),
        ("function main() { const o = {}; o.self = o; return o; }", "JSON cannot hold"),
        ("function main() { return {big: 'x'.repeat(20000)}; }", "more than the limit"),
    ],
)
def test_given_code_breaking_the_contract_when_invoked_then_it_is_a_contract_error(code, fragment):
    error = failure_of(code)

    assert error["type"] == "CodeContractError"
    assert fragment in error["message"]


def test_given_another_language_when_invoked_then_it_is_a_contract_error():
    event = {"language": "python3", "code": "def main(): return {}", "inputs": {}}

    answer = runner().invoke("sandbox-js", event).payload

    assert answer["error"]["type"] == "CodeContractError"


def test_given_an_event_without_code_when_invoked_then_lambda_reports_a_function_error():
    result = runner().invoke("sandbox-js", {"language": "javascript"})

    assert result.failed
    assert result.error["errorType"] == "TypeError"


# ------------------------------------------------------------------------------------- limits


def test_given_code_that_waits_when_invoked_then_the_wall_clock_stops_it():
    code = "async function main() { await new Promise(r => setTimeout(r, 60000)); return {}; }"

    error = failure_of(code, SIGNOFF_SANDBOX_WALL_SECONDS="1")

    assert error["type"] == "CodeTimeout"


def test_given_code_filling_the_heap_when_invoked_then_it_is_out_of_memory():
    code = "function main() { const a = []; for (;;) a.push('x'.repeat(1000) + a.length); }"

    # Filling 64 MB may take a while on a busy machine: the heap must be what stops it.
    error = failure_of(code, SIGNOFF_SANDBOX_WALL_SECONDS="40")

    assert error["type"] == "CodeMemoryExceeded"


def test_given_a_buffer_beyond_the_local_address_space_when_invoked_then_it_is_out_of_memory():
    code = "function main() { return {n: Buffer.alloc(3 * 1024 * 1024 * 1024).length}; }"

    assert failure_of(code)["type"] == "CodeMemoryExceeded"


# -------------------------------------------------------------------------------- isolation


def test_given_code_reading_the_environment_when_invoked_then_it_is_empty():
    code = "function main() { return {keys: Object.keys(process.env)}; }"

    assert invoke(code)["result"] == {"keys": []}


@pytest.mark.parametrize(
    "reach",
    [
        "process.mainModule.require('child_process').execSync('id')",
        "process.mainModule.require('fs').readFileSync('/etc/hostname', 'utf8')",
        "process.mainModule.require('fs').writeFileSync('/tmp/signoff-js-escape', 'x')",
        "process.mainModule.require('fs').writeFileSync('../escape.txt', 'x')",
        "new (process.mainModule.require('worker_threads').Worker)('1', {eval: true})",
    ],
)
def test_given_code_reaching_outside_its_directory_when_invoked_then_node_refuses(reach):
    error = failure_of(f"function main() {{ {reach}; return {{}}; }}")

    assert error["type"] == "CodeError"
    assert "restricted" in error["message"] or "ERR_ACCESS_DENIED" in error["message"]
    assert not Path("/tmp/signoff-js-escape").exists()


def test_given_code_using_its_working_directory_when_invoked_then_it_may_write_and_read_there():
    code = (
        "function main() {\n"
        "  const fs = process.mainModule.require('fs');\n"
        "  fs.writeFileSync('scratch.txt', 'kept');\n"
        "  return {text: fs.readFileSync('scratch.txt', 'utf8'), cwd: process.cwd()};\n"
        "}"
    )

    result = invoke(code)["result"]

    assert result["text"] == "kept"
    # The working directory went with the invocation.
    assert not Path(result["cwd"]).exists()
