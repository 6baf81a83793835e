"""`signoff`: validate and compile workflow files, run the local cloud, invoke one function."""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import IO, Any

import click


@click.group()
@click.version_option(package_name="signoff")
def main() -> None:
    """Dify-style workflow graphs on AWS Step Functions."""


def _load_and_validate(file: Path) -> tuple[Any, list[Any]]:
    from signoff.errors import GraphInvalid
    from signoff.graph import load_workflow_file, validate_workflow

    try:
        workflow = load_workflow_file(file)
    except GraphInvalid as invalid:
        return None, list(invalid.issues)
    return workflow, list(validate_workflow(workflow))


def _echo_issues(issues: list[Any], *, err: bool = False) -> None:
    for issue in issues:
        click.echo(f"{issue.code}\t{issue.node_id or '-'}\t{issue.message}", err=err)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def validate(file: Path) -> None:
    """Print every issue of a workflow file (code, node id, message); exit 1 if there is any."""
    _, issues = _load_and_validate(file)
    if issues:
        _echo_issues(issues)
        sys.exit(1)
    click.echo("ok")


@main.command(name="compile")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def compile_command(file: Path) -> None:
    """Print the state machine (ASL JSON) a workflow file compiles to, with placeholder ARNs."""
    from signoff.compiler import CompileTarget, compile_workflow

    workflow, issues = _load_and_validate(file)
    if issues:
        _echo_issues(issues, err=True)
        sys.exit(1)
    definition = compile_workflow(workflow, CompileTarget.placeholders())
    click.echo(json.dumps(definition, indent=2))


@main.command()
@click.option("--port", type=int, default=None, help="The API's port (default 8080).")
@click.option("--aws-port", type=int, default=None, help="The local AWS endpoint's port (8081).")
def dev(port: int | None, aws_port: int | None) -> None:
    """Run the local cloud until Ctrl-C: the API, Step Functions, DynamoDB, the functions."""
    from signoff.local.cloud import LocalCloud

    _log_local_cloud_to_stderr()
    stopping = threading.Event()
    # Ctrl-C and `kill` both stop it cleanly (SIGINT too is set explicitly: a shell may start a
    # background job with it ignored).
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: stopping.set())
    with LocalCloud(port=port, aws_port=aws_port) as cloud:
        # A key the developer chose stays out of the output (it may be captured in logs); a
        # generated one is shown, as there is no other way to learn it.
        chosen = bool(cloud.settings.dev_key)
        shown_key = "(SIGNOFF_DEV_KEY)" if chosen else cloud.admin_key
        bearer = "$SIGNOFF_DEV_KEY" if chosen else cloud.admin_key
        curl = (
            f"curl -s -X POST {cloud.base_url}/workflows/hello/runs "
            f'-H "Authorization: Bearer {bearer}" -H "Content-Type: application/json" '
            """-d '{"inputs":{"name":"Ada"},"response_mode":"blocking","user":"dev"}'"""
        )
        lines = [
            "signoff local cloud is ready",
            f"  API            {cloud.base_url}",
            f"  docs           {cloud.base_url}/docs",
            f"  console        {cloud.base_url}/console/   (sign in with the admin key)",
            f"  AWS endpoint   {cloud.aws_endpoint_url}   "
            "(boto3 / aws --endpoint-url: tables, state machines, executions)",
            f"  admin key      {shown_key}   (also the operator key: POST /tenants)",
            f"  workflows      {', '.join(cloud.deployed) or '(none in examples/)'}",
            "",
            "Run the hello workflow:",
            f"  {curl}",
            "",
            "Ctrl-C to stop.",
        ]
        click.echo("\n".join(lines))
        sys.stdout.flush()
        while not stopping.wait(0.5):
            pass
        click.echo("stopping")


def _log_local_cloud_to_stderr() -> None:
    from signoff.redaction import RedactingFilter

    # The cloud's own lines (requests, function failures) stay plain text, apart from the
    # handlers' JSON logs that share the `signoff` logger name.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s local-cloud %(message)s", "%H:%M:%S"))
    handler.addFilter(RedactingFilter())
    local = logging.getLogger("signoff.local")
    local.addHandler(handler)
    local.setLevel(logging.INFO)
    local.propagate = False


@main.command()
@click.argument("function")
@click.option(
    "-e", "--event", "event_file", type=click.File("r"), required=True, help="A JSON event file."
)
def invoke(function: str, event_file: IO[str]) -> None:
    """Run one function's handler on an event, in an ephemeral local cloud.

    FUNCTION is the template's logical id without `Function`, case-insensitive: api, authorizer,
    node, sandbox, sandbox_js, settle, review, stream, reconcile, webhook_fanout, webhook_delivery
    (events/ holds a sample event for each).
    """
    from signoff.local.cloud import LocalCloud

    try:
        event = json.load(event_file)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--event") from exc
    # Whatever the handler and the cloud log goes to stderr: stdout carries the result only.
    with (
        contextlib.redirect_stdout(sys.stderr),
        LocalCloud(serve=False, deploy_examples=False, aws_port=0) as cloud,
    ):
        assert cloud.plan is not None
        try:
            cloud.plan.function(function)
        except KeyError as exc:
            raise click.BadParameter(str(exc.args[0]), param_hint="FUNCTION") from exc
        result = cloud.invoke(function, event)
    click.echo(json.dumps(result.error if result.failed else result.payload, indent=2))
    if result.failed:
        sys.exit(1)


# --- import: Dify DSL exports (signoff.dify) ----------------------------------------------------


@main.command(name="import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--check",
    is_flag=True,
    help="Only check each file: whether it imports, its issues and its dependencies.",
)
@click.option("--json", "as_json", is_flag=True, help="With --check: print a JSON list.")
@click.option("--native", is_flag=True, help="Print the native YAML a Dify DSL file imports as.")
@click.option(
    "--api-url",
    envvar="SIGNOFF_API_URL",
    default="http://127.0.0.1:8080",
    show_default=True,
    help="The API to create the workflow in (`signoff dev` serves one locally).",
)
@click.option(
    "--api-key",
    envvar=["SIGNOFF_API_KEY", "SIGNOFF_DEV_KEY"],
    default=None,
    help="An API key (env SIGNOFF_API_KEY, else SIGNOFF_DEV_KEY).",
)
@click.option("--id", "workflow_id", default=None, help="The new workflow's id (one file only).")
def import_command(
    files: tuple[Path, ...],
    check: bool,
    as_json: bool,
    native: bool,
    api_url: str,
    api_key: str | None,
    workflow_id: str | None,
) -> None:
    """Import Dify DSL exports (or native YAML workflows) into a running API.

    With --check, nothing is created: for each file, whether it imports, every issue, and the
    dependencies a deployment must provide (models, tools, knowledge bases, http hosts, plugins,
    secrets). A dependency is not a failure; the exit code is 1 when any file does not import.
    """
    from signoff.dify import check_file

    reports = [check_file(file) for file in files]
    if check:
        if as_json:
            click.echo(json.dumps([report.as_dict() for report in reports], indent=2))
        else:
            _echo_import_table(reports)
        sys.exit(0 if all(report.imports for report in reports) else 1)
    if native:
        _echo_native(files, reports)
        return
    if workflow_id and len(files) > 1:
        raise click.BadParameter("--id names one workflow: give one file", param_hint="--id")
    _post_imports(files, api_url, api_key, workflow_id)


def _echo_import_table(reports: list[Any]) -> None:
    from signoff.dify import DEPENDENCY_KINDS

    rows = [("FILE", "IMPORTS", "ISSUES", "DEPENDENCIES")]
    for report in reports:
        needs = "; ".join(
            f"{kind}: {', '.join(report.dependencies[kind])}"
            for kind in DEPENDENCY_KINDS
            if report.dependencies.get(kind)
        )
        rows.append(
            (report.file, "yes" if report.imports else "no", str(len(report.issues)), needs or "-")
        )
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    for row in rows:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
            + "  "
            + row[3]
        )
    for report in reports:
        if report.issues:
            click.echo(f"\n{report.file}:")
            _echo_issues(report.issues)


def _echo_native(files: tuple[Path, ...], reports: list[Any]) -> None:
    from signoff.dify import load_any, native_yaml
    from signoff.graph import read_document

    failed = [report for report in reports if not report.imports]
    for report in failed:
        click.echo(f"{report.file}:", err=True)
        _echo_issues(report.issues, err=True)
    if failed:
        sys.exit(1)
    for file in files:
        document = read_document(file.read_text(encoding="utf-8"), source=str(file))
        if len(files) > 1:
            click.echo(f"# {file}")
        click.echo(native_yaml(load_any(document)), nl=False)


def _post_imports(
    files: tuple[Path, ...], api_url: str, api_key: str | None, workflow_id: str | None
) -> None:
    import httpx

    if not api_key:
        raise click.UsageError(
            "an API key is needed: --api-key, SIGNOFF_API_KEY or SIGNOFF_DEV_KEY"
        )
    failed = False
    with httpx.Client(
        base_url=api_url,
        headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/yaml"},
        timeout=60,
    ) as http:
        for file in files:
            params = {"id": workflow_id} if workflow_id else None
            try:
                response = http.post("/workflows", content=file.read_bytes(), params=params)
            except (OSError, httpx.HTTPError) as error:
                raise click.ClickException(f"{file}: {error}") from error
            body = (
                response.json()
                if response.headers.get("content-type", "").startswith("application/json")
                else {}
            )
            if response.status_code == 201:
                click.echo(f"{file}\tcreated\t{body.get('id')}")
                continue
            failed = True
            click.echo(
                f"{file}\t{response.status_code}\t{body.get('message', response.text)}", err=True
            )
            for found in body.get("issues") or []:
                if isinstance(found, dict):
                    code, node = found.get("code"), found.get("node_id") or "-"
                    click.echo(f"{code}\t{node}\t{found.get('message')}", err=True)
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
