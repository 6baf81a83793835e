"""The use cases behind Dify's /v1 routes, on signoff's runs, workflows and uploads.

A Dify app key names one app: here an app key (role app) names one workflow, and every /v1 route
acts on that workflow; another workflow's run or form is not found, as another tenant's is:
existence never leaks. An admin key names no app: it may use the routes whose path names the
workflow, a run or a form of its tenant, and gets not_workflow_app on the others.

Versions: Dify names each published version of an app with a workflow id of its own, and
POST /v1/workflows/{workflow_id}/run runs that version. Here a workflow version's `version_id`
(a UUID) plays that part; GET /v1/workflows/run/{id} answers the run's version id as its
workflow_id. The other app routes (parameters, info, site) answer for the newest version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from signoff.auth.principal import APP, Principal
from signoff.difyapi import shapes
from signoff.difyapi.models import DifyRunRequest
from signoff.difyapi.shapes import RunFacts
from signoff.difyapi.uploads import StoredUpload, UploadStore
from signoff.errors import Conflict, InvalidInput, NotFound
from signoff.graph import parse_workflow
from signoff.runs.service import RunService, RunSnapshot
from signoff.store.runs import RunRecord, RunRepository, RunStatus
from signoff.store.workflows import WorkflowRecord, WorkflowRepository

# The most runs GET /v1/workflows/logs reads to filter and count (Dify's own page limit is 99999
# pages of 100).
_LOG_SCAN_LIMIT = 100_000


class NotWorkflowApp(InvalidInput):
    """The key names no workflow app (an admin key on a route without a workflow in its path)."""

    code = "not_workflow_app"


class NodeExecutionCounter(Protocol):
    def list_for_run(self, tenant_id: str, run_id: str) -> list[Any]: ...


class FormService(Protocol):
    """signoff.reviews.forms.HumanInputForms."""

    def find(self, form_token: str, *, tenant_id: str | None = None) -> Any: ...

    def get(self, form_token: str, *, tenant_id: str | None = None) -> Any: ...

    def submit(
        self,
        form_token: str,
        *,
        inputs: dict[str, Any],
        action: str,
        user: str | None,
        tenant_id: str | None = None,
    ) -> Any: ...


class RunStopper(Protocol):
    """signoff.reviews.cancel.RunCanceller."""

    def cancel(self, tenant_id: str, run_id: str, *, cancelled_by: str) -> RunRecord: ...


@dataclass(frozen=True)
class LogQuery:
    keyword: str | None = None
    status: str | None = None
    page: int = 1
    limit: int = 20
    created_at_before: datetime | None = None
    created_at_after: datetime | None = None
    session_id: str | None = None
    account: str | None = None


def app_workflow_id(principal: Principal, named: str | None = None) -> str:
    """The workflow a /v1 request acts on: the app key's own; `named` (from the path) must be it.
    An admin key acts on the workflow the path names, and needs one."""
    if principal.role == APP:
        if named is not None and named != principal.workflow_id:
            raise NotFound(f"workflow {named} not found")
        if not principal.workflow_id:
            raise NotWorkflowApp("this app key names no workflow")
        return principal.workflow_id
    if named is not None:
        return named
    raise NotWorkflowApp(
        "this key names no workflow app: call the /v1 routes with an app key (POST /keys with "
        "role app and a workflow_id)"
    )


class DifyAppService:
    def __init__(
        self,
        runs: RunService,
        run_records: RunRepository,
        workflows: WorkflowRepository,
        node_executions: NodeExecutionCounter,
        uploads: UploadStore,
        stopper: RunStopper | None = None,
        forms: FormService | None = None,
    ) -> None:
        self._runs = runs
        self._run_records = run_records
        self._workflows = workflows
        self._node_executions = node_executions
        self._uploads = uploads
        self._stopper = stopper
        self._forms = forms

    # ---------------------------------------------------------------- runs

    def start(
        self, principal: Principal, request: DifyRunRequest, *, workflow_id: str | None = None
    ) -> RunRecord | RunFacts:
        """Start a run of the app's workflow. Blocking: its facts once it ended or paused (or the
        wait ran out); streaming: the started run record, for the caller to follow."""
        if workflow_id is None:
            target, version = app_workflow_id(principal), None
        else:
            target, version = self.pinned_version(principal, workflow_id)
        if request.files:
            raise InvalidInput(
                "files (sys.files) are not supported: pass each file as the value of a file "
                "input variable",
                field="files",
            )
        inputs = self._with_uploads(principal.tenant_id, request.inputs)
        started = self._runs.start(
            principal.tenant_id,
            target,
            inputs,
            user=request.user,
            response_mode="blocking" if request.response_mode == "blocking" else "streaming",
            version=version,
        )
        if request.response_mode != "blocking":
            return started.run
        snapshot = started.snapshot or self._runs.get(principal.tenant_id, started.run.run_id)
        return self.facts(snapshot)

    def pinned_version(self, principal: Principal, named: str) -> tuple[str, int | None]:
        """The workflow and version POST /v1/workflows/{workflow_id}/run runs: the version whose
        version id `named` is (of the app key's workflow; an admin key: of its tenant's), or, when
        `named` is the workflow's own id, its newest version. NotFound otherwise, in Dify's
        words (not_found), for another app's or another tenant's versions too."""
        if principal.role == APP:
            workflow_id = app_workflow_id(principal)
            if named == workflow_id:
                return workflow_id, None
            found = self._workflows.find_version_by_id(
                principal.tenant_id, named, workflow_id=workflow_id
            )
        else:
            if self._workflows.find(principal.tenant_id, named) is not None:
                return named, None
            found = self._workflows.find_version_by_id(principal.tenant_id, named)
        if found is None:
            raise NotFound(f"workflow {named} not found")
        return found.workflow_id, found.version

    def run_detail(self, principal: Principal, run_id: str) -> dict[str, Any]:
        run = self.app_run(principal, run_id)
        detail = shapes.run_detail(self.facts(self._runs.get(principal.tenant_id, run.run_id)))
        # Dify's workflow_id of a run is the id of the version it ran.
        return detail | {"workflow_id": self.workflow_id_of(run)}

    def workflow_id_of(self, run: RunRecord) -> str:
        """Dify's workflow id of a run: its version's id, as the run recorded it at start (a
        run made before runs recorded it: read from its version)."""
        if run.workflow_version_id is not None:
            return run.workflow_version_id
        try:
            version = self._workflows.get_version(
                run.tenant_id, run.workflow_id, run.workflow_version
            )
        except NotFound:
            return run.workflow_id
        return version.version_id or run.workflow_id

    def stop(self, principal: Principal, task_id: str) -> dict[str, Any]:
        """Stop the run a task id names. Dify answers success for a task that already ended."""
        run = self.app_run(principal, task_id)
        if self._stopper is None:
            raise NotFound("this deployment cannot stop runs (no reviews table)")
        if not run.status.is_terminal:
            try:
                self._stopper.cancel(principal.tenant_id, run.run_id, cancelled_by=principal.actor)
            except Conflict:
                # The run ended between the read and the stop: that is what was asked.
                stored = self._run_records.get(principal.tenant_id, run.run_id)
                if not stored.status.is_terminal:
                    raise
        return {"result": "success"}

    def logs(self, principal: Principal, query: LogQuery) -> dict[str, Any]:
        workflow_id = app_workflow_id(principal)
        status = RunStatus(query.status) if query.status else None
        records, _ = self._run_records.page(
            principal.tenant_id,
            offset=0,
            limit=_LOG_SCAN_LIMIT,
            workflow_id=workflow_id,
            status=status,
        )
        matched = [record for record in records if _log_matches(record, query)]
        start = (query.page - 1) * query.limit
        page = matched[start : start + query.limit]
        return shapes.logs_page(
            (shapes.log_entry(self._record_facts(record)) for record in page),
            page=query.page,
            limit=query.limit,
            total=len(matched),
        )

    def facts(self, snapshot: RunSnapshot) -> RunFacts:
        return self._record_facts(snapshot.run, elapsed=snapshot.elapsed_seconds)

    def _record_facts(self, run: RunRecord, *, elapsed: float | None = None) -> RunFacts:
        executions = self._node_executions.list_for_run(run.tenant_id, run.run_id)
        if elapsed is None:
            elapsed = RunSnapshot(run=run).elapsed_seconds
        return RunFacts(
            run=run,
            elapsed_time=round(elapsed, 3),
            total_steps=len(executions),
            exceptions_count=sum(1 for execution in executions if execution.status == "exception"),
        )

    def app_run(self, principal: Principal, run_id: str) -> RunRecord:
        """The run, when it is one of the app's workflow (an admin key: of its tenant);
        NotFound otherwise."""
        run = self._run_records.get(principal.tenant_id, run_id)
        if principal.role == APP and run.workflow_id != app_workflow_id(principal):
            raise NotFound(f"run {run_id} not found")
        return run

    # ---------------------------------------------------------------- the app

    def workflow(self, principal: Principal) -> WorkflowRecord:
        return self._workflows.get(principal.tenant_id, app_workflow_id(principal))

    def parameters(self, principal: Principal) -> dict[str, Any]:
        return shapes.parameters(parse_workflow(self.workflow(principal).graph))

    def info(self, principal: Principal) -> dict[str, Any]:
        return shapes.info(self.workflow(principal))

    def meta(self, principal: Principal) -> dict[str, Any]:
        self.workflow(principal)
        return shapes.meta()

    def site(self, principal: Principal) -> dict[str, Any]:
        return shapes.site(self.workflow(principal))

    # ---------------------------------------------------------------- human-input forms

    def form(self, principal: Principal, form_token: str) -> dict[str, Any]:
        """An open form of the app's runs (412 once submitted or expired)."""
        forms = self._form_service()
        self._app_form(principal, form_token)
        return shapes.human_input_form(forms.get(form_token, tenant_id=principal.tenant_id))

    def submit_form(
        self,
        principal: Principal,
        form_token: str,
        *,
        inputs: dict[str, Any],
        action: str,
        user: str | None,
    ) -> dict[str, Any]:
        forms = self._form_service()
        self._app_form(principal, form_token)
        forms.submit(
            form_token, inputs=inputs, action=action, user=user, tenant_id=principal.tenant_id
        )
        return {}

    def _form_service(self) -> FormService:
        if self._forms is None:
            raise NotFound("this deployment has no human-input forms (no reviews table)")
        return self._forms

    def _app_form(self, principal: Principal, form_token: str) -> None:
        """NotFound unless the form is of a run of the app's workflow (an admin key: of its
        tenant)."""
        found = self._form_service().find(form_token, tenant_id=principal.tenant_id)
        if principal.role == APP and found.workflow_id != app_workflow_id(principal):
            raise NotFound("no such form")

    # ---------------------------------------------------------------- files

    def upload(
        self,
        principal: Principal,
        *,
        content: bytes,
        filename: str,
        mime_type: str | None,
        user: str,
    ) -> dict[str, Any]:
        app_workflow_id(principal)
        stored = self._uploads.put(
            principal.tenant_id, content=content, filename=filename, mime_type=mime_type, user=user
        )
        return shapes.upload_body(
            upload_id=stored.upload_id,
            name=stored.name,
            size=stored.size,
            mime_type=stored.mime_type,
            created_by=stored.created_by,
            created_at=stored.created_at,
        )

    def _with_uploads(self, tenant_id: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """Inputs whose local_file values carry what their upload holds (name, type, size), so
        nodes see the file as Dify would describe it; an unknown upload id is a bad input."""

        def resolved(name: str, value: Any) -> Any:
            if isinstance(value, list):
                return [resolved(name, item) for item in value]
            if not (isinstance(value, dict) and value.get("transfer_method") == "local_file"):
                return value
            upload_id = value.get("upload_file_id") or value.get("related_id")
            upload: StoredUpload | None = (
                self._uploads.find(tenant_id, upload_id) if isinstance(upload_id, str) else None
            )
            if upload is None:
                raise InvalidInput(
                    f"input {name}: no uploaded file {upload_id!r}", field=f"inputs.{name}"
                )
            described = upload.file_value()
            if value.get("type"):
                described["type"] = value["type"]
            return described

        return {name: resolved(name, value) for name, value in inputs.items()}


def _log_matches(run: RunRecord, query: LogQuery) -> bool:
    created = datetime.fromisoformat(run.created_at.replace("Z", "+00:00"))
    if query.created_at_before is not None and created >= query.created_at_before:
        return False
    if query.created_at_after is not None and created <= query.created_at_after:
        return False
    if query.session_id is not None and run.user != query.session_id:
        return False
    if query.account is not None and run.user != query.account:
        return False
    if query.keyword:
        text = json.dumps([run.inputs, run.outputs, run.run_id, run.user], ensure_ascii=False)
        if query.keyword.lower() not in text.lower():
            return False
    return True
