"""`python -m signoff.compiler.examples OUTDIR`: compile every examples/*.yaml to OUTDIR.

Each lands in OUTDIR/<stem>.asl.json with the definition-substitution placeholders in place of
function ARNs, ready for asl-validator and for review in a diff.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from signoff.compiler import CompileTarget, compile_workflow
from signoff.errors import GraphInvalid
from signoff.graph import load_workflow_file

EXAMPLES_DIR = Path("examples")


def render(definition: dict) -> str:
    """The checked-in text form of a definition (stable: diffs show real changes only)."""
    return json.dumps(definition, indent=2, ensure_ascii=False) + "\n"


def compile_examples(examples_dir: Path, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sorted(examples_dir.glob("*.yaml")):
        definition = compile_workflow(load_workflow_file(source), CompileTarget.placeholders())
        destination = out_dir / f"{source.stem}.asl.json"
        destination.write_text(render(definition), encoding="utf-8")
        written.append(destination)
    return written


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2):
        print("usage: python -m signoff.compiler.examples OUTDIR [EXAMPLES_DIR]", file=sys.stderr)
        return 2
    out_dir = Path(argv[0])
    examples_dir = Path(argv[1]) if len(argv) == 2 else EXAMPLES_DIR
    try:
        written = compile_examples(examples_dir, out_dir)
    except GraphInvalid as error:
        for found in error.issues:
            print(f"{found.code} {found.node_id or '-'}: {found.message}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
