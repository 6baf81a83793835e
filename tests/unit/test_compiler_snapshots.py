"""Snapshots of compiled definitions: every example and a few graph shapes.

The examples' definitions are checked in under statemachines/examples/ (regenerate them with
`make compile-examples`); the shapes' are syrupy snapshots (refresh with
`pytest tests/unit/test_compiler_snapshots.py --snapshot-update`). Review either diff: the
definition is what users see in execution history.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from signoff.compiler import CompileTarget, compile_workflow
from signoff.compiler.examples import render
from signoff.graph import load_workflow_file

ROOT = Path(__file__).parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
COMPILED_EXAMPLES = ROOT / "statemachines" / "examples"
# Graph shapes the compiler must get right (branch + join, two ends, a guard-free chain...).
SHAPES = sorted((ROOT / "tests" / "graphs" / "shapes").glob("*.yaml"))


class DefinitionSnapshot(JSONSnapshotExtension):
    """JSON snapshots that keep key order: states stay in the order the run walks them."""

    @classmethod
    def sort(cls, iterable):
        return list(iterable)


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(DefinitionSnapshot)


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.stem for path in EXAMPLES])
def test_checked_in_example_definition_matches_the_compiler(path: Path):
    definition = compile_workflow(load_workflow_file(path), CompileTarget.placeholders())
    checked_in = COMPILED_EXAMPLES / f"{path.stem}.asl.json"

    assert checked_in.exists(), f"{checked_in.name} is missing: run `make compile-examples`"
    assert render(definition) == checked_in.read_text(encoding="utf-8"), (
        f"{checked_in.name} has drifted from the compiler: run `make compile-examples`"
    )


@pytest.mark.parametrize("path", SHAPES, ids=[path.stem for path in SHAPES])
def test_shape(path: Path, snapshot_json):
    definition = compile_workflow(load_workflow_file(path), CompileTarget.placeholders())
    assert definition == snapshot_json
