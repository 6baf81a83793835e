"""Agno's workflow API beside the native one: cancelling a run by its workflow.

Agno's run form (multipart POST /workflows/{workflow_id}/runs) is answered by the streaming app
(signoff.difyapi.streaming), which serves that path; GET /workflows and GET /workflows/{id}
already answer Agno's fields (id, name, description).
"""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from signoff.api.models import ErrorBody
from signoff.api.principal import CurrentPrincipal
from signoff.difyapi.agno import AgnoWorkflowService

_ERROR = {"application/json": {"model": ErrorBody}}


def agno_router(agno: AgnoWorkflowService) -> Router:
    router = Router()

    @router.post(
        "/workflows/<workflow_id>/runs/<run_id>/cancel",
        summary="Cancel a run of this workflow (Agno)",
        description="Stops the run and closes its open reviews; a run that already ended is "
        "left as it is. Answers an empty object.",
        tags=["runs", "agno"],
        responses={
            200: {"description": "Cancelled (or already ended)"},
            404: {"description": "No such workflow or run", "content": _ERROR},
        },
    )
    def cancel_workflow_run(
        principal: CurrentPrincipal,
        workflow_id: Annotated[str, Path()],
        run_id: Annotated[str, Path()],
    ) -> dict[str, Any]:
        agno.cancel(principal.tenant_id, workflow_id, run_id, by=principal.actor)
        return {}

    return router
