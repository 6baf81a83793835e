"""LocalCloud: AWS on this machine, with no Docker and no account.

moto's server runs in this process and executes the state machines; the template's handlers run
in process when Lambda is invoked (moto_patches); the HTTP front plays API Gateway. Handlers find
the local AWS endpoint through AWS_ENDPOINT_URL, which boto3 honours natively: they never ask
"am I local?".
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
import httpx
import uvicorn
import yaml
from moto.server import ThreadedMotoServer

from signoff.auth.keys import generate_key, hash_key
from signoff.local.config import LocalCloudSettings
from signoff.local.event_sources import EventSources
from signoff.local.fake_integrations import FakeIntegrationsServer
from signoff.local.fake_llm import LOCAL_SECRET_ID, FakeLlmServer, local_provider_parameters
from signoff.local.front import Front
from signoff.local.functions import FunctionRunner, InvocationResult, activate
from signoff.local.moto_patches import apply_patches
from signoff.local.provision import StackPlan, plan_stack, provision_stack
from signoff.local.template import REGION

logger = logging.getLogger(__name__)

MOTO_CONFIG: dict[str, Any] = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}
DEV_TENANT_PLAN = "enterprise"
_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


class LocalCloud:
    """The local cloud, as a context manager.

    `serve=True` also serves the HTTP front on `port` (0: a free one); `deploy_examples` deploys
    every examples/*.yaml through that API with the admin key.
    """

    def __init__(
        self,
        *,
        settings: LocalCloudSettings | None = None,
        port: int | None = None,
        aws_port: int | None = None,
        serve: bool = True,
        deploy_examples: bool | None = None,
        template_path: Path | None = None,
        examples_dir: Path | None = None,
    ) -> None:
        self.settings = settings or LocalCloudSettings()
        self._port = self.settings.port if port is None else port
        self._aws_port = self.settings.aws_port if aws_port is None else aws_port
        self._serve = serve
        self._deploy_examples = serve if deploy_examples is None else deploy_examples
        self._template_path = template_path
        self._examples_dir = examples_dir
        self._moto: ThreadedMotoServer | None = None
        self._uvicorn: uvicorn.Server | None = None
        self._uvicorn_thread: threading.Thread | None = None
        self._saved_env: dict[str, str | None] = {}
        self._previous_runner: FunctionRunner | None = None
        self.plan: StackPlan | None = None
        self.fake_llm: FakeLlmServer | None = None
        self.fake_integrations: FakeIntegrationsServer | None = None
        self.runner: FunctionRunner | None = None
        # The functions' SQS event sources, polled in this process (local/event_sources.py).
        self.event_sources: EventSources | None = None
        self.front: Front | None = None
        self.aws_endpoint_url = ""
        self.base_url = ""
        self.admin_key = ""
        self.deployed: list[str] = []

    # -------------------------------------------------------------- lifecycle

    def __enter__(self) -> LocalCloud:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        self._start_moto()
        apply_patches()
        # The dev key is both the operator key and the default tenant's admin key.
        self.admin_key = self.settings.dev_key or generate_key()
        parameters = {**self._start_fake_llm(), "OperatorKeyHash": hash_key(self.admin_key)}
        parameters.update(self._start_fake_integrations())
        if self._serve and self._port:
            # Links in webhook payloads point at this front (the API Gateway URL otherwise).
            parameters["PublicApiUrl"] = f"http://{self.settings.host}:{self._port}"
        parameters.update(self.settings.stack_parameters)
        self.plan = plan_stack(self._template_path, parameter_overrides=parameters)
        provision_stack(
            self.plan,
            {
                name: self.client(name)
                for name in ("dynamodb", "iam", "lambda", "s3", "secretsmanager", "sqs", "events")
            },
        )
        self.runner = FunctionRunner(self.plan.functions)
        self._previous_runner = activate(self.runner)
        self.event_sources = EventSources.for_plan(
            self.plan, sqs_client=self.client("sqs"), runner=self.runner
        )
        self.event_sources.start()
        self._seed_default_tenant()
        self.front = Front(self.plan, self.runner)
        if self._serve:
            self._start_front()
        if self._deploy_examples:
            self.deployed = self.deploy_examples()

    def stop(self) -> None:
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
            if self._uvicorn_thread is not None:
                self._uvicorn_thread.join(timeout=10)
            self._uvicorn = None
        if self.event_sources is not None:
            self.event_sources.stop()
            self.event_sources = None
        if self.runner is not None:
            activate(self._previous_runner)
            self.runner = None
        if self.fake_integrations is not None:
            self.fake_integrations.stop()
            self.fake_integrations = None
        if self.fake_llm is not None:
            self.fake_llm.stop()
            self.fake_llm = None
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env = {}

    # -------------------------------------------------------------- pieces

    def _set_env(self, name: str, value: str) -> None:
        if name not in self._saved_env:
            self._saved_env[name] = os.environ.get(name)
        os.environ[name] = value

    def _start_moto(self) -> None:
        # werkzeug logs every request moto serves: the Step Functions callbacks would drown the log.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        # moto logs every state a failing task unwinds through as an ERROR; a node failing is an
        # ordinary outcome here, and the execution history holds the same facts.
        logging.getLogger("moto.stepfunctions.parser.asl.component.eval_component").setLevel(
            logging.CRITICAL
        )
        for name, value in _CREDENTIALS.items():
            self._set_env(name, value)
        self._set_env("AWS_DEFAULT_REGION", REGION)
        self._set_env("AWS_REGION", REGION)
        # A session token or profile from the developer's shell must not reach moto.
        for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
            if name in os.environ:
                self._saved_env.setdefault(name, os.environ[name])
                del os.environ[name]
        self._moto = ThreadedMotoServer(
            ip_address=self.settings.host, port=self._aws_port, verbose=False
        )
        self._moto.start()
        host, port = self._moto.get_host_and_port()
        self.aws_endpoint_url = f"http://{host}:{port}"
        # moto's ASL interpreter calls back into the server on MOTO_PORT.
        self._set_env("MOTO_PORT", str(port))
        self._set_env("AWS_ENDPOINT_URL", self.aws_endpoint_url)
        # Backends live in the process: a previous cloud in this process must leave nothing.
        httpx.post(
            f"{self.aws_endpoint_url}/moto-api/reset", timeout=30, trust_env=False
        ).raise_for_status()
        httpx.post(
            f"{self.aws_endpoint_url}/moto-api/config",
            json=MOTO_CONFIG,
            timeout=30,
            trust_env=False,
        ).raise_for_status()

    def _start_fake_llm(self) -> dict[str, str]:
        """Serve the fake OpenAI-compatible server, its key in Secrets Manager; the template
        parameters that make it the deployment's LLM provider `local`."""
        api_key = f"sk-local-{secrets.token_hex(12)}"
        self.fake_llm = FakeLlmServer(api_key=api_key, host=self.settings.host)
        base_url = self.fake_llm.start()
        self.client("secretsmanager").create_secret(Name=LOCAL_SECRET_ID, SecretString=api_key)
        return local_provider_parameters(base_url)

    def _start_fake_integrations(self) -> dict[str, str]:
        """Serve the local tools, retriever and sample files; the template parameters that
        register them (beside the tools and retrievers the settings name)."""
        self.fake_integrations = FakeIntegrationsServer(host=self.settings.host)
        self.fake_integrations.start()
        tools, retrievers = self.fake_integrations.registrations()
        return self.settings.integration_parameters(tools, retrievers)

    def client(self, service: str) -> Any:
        """A boto3 client on the local AWS endpoint."""
        return boto3.client(service, region_name=REGION, endpoint_url=self.aws_endpoint_url)

    def _seed_default_tenant(self) -> None:
        """The default tenant, on the largest plan (tests and examples share it), with the dev key
        as its admin key."""
        from signoff.auth.keys import ApiKeyService
        from signoff.store import utc_now_iso
        from signoff.store.api_keys import DynamoApiKeyRepository
        from signoff.store.tenants import DynamoTenantRepository, TenantRecord

        assert self.plan is not None
        dynamodb = self.client("dynamodb")
        tenants = self.plan.tables.get("TenantsTable")
        if tenants is not None:  # a test's smaller template may have none
            DynamoTenantRepository(tenants.table_name, dynamodb).create(
                TenantRecord(
                    tenant_id=self.settings.dev_tenant,
                    name=self.settings.dev_tenant,
                    plan=DEV_TENANT_PLAN,
                    created_at=utc_now_iso(),
                )
            )
        table = self.plan.tables["ApiKeysTable"].table_name
        service = ApiKeyService(DynamoApiKeyRepository(table, client=dynamodb))
        service.create_key(self.settings.dev_tenant, "dev", "admin", plaintext=self.admin_key)

    def _start_front(self) -> None:
        assert self.front is not None
        config = uvicorn.Config(
            self.front.app,
            host=self.settings.host,
            port=self._port,
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        self._uvicorn = uvicorn.Server(config)
        # Signals belong to the CLI's main thread, not to a server in a side thread.
        self._uvicorn.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self._uvicorn_thread = threading.Thread(
            target=self._uvicorn.run, name="signoff-front", daemon=True
        )
        self._uvicorn_thread.start()
        deadline = time.monotonic() + 30
        while not self._uvicorn.started:
            if not self._uvicorn_thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the HTTP front did not start on port {self._port}")
            time.sleep(0.02)
        host, port = self._uvicorn.servers[0].sockets[0].getsockname()[:2]
        self.base_url = f"http://{host}:{port}"

    # -------------------------------------------------------------- using it

    def http(self) -> httpx.Client:
        """An HTTP client on the served API, with the admin key."""
        if not self.base_url:
            raise RuntimeError("the HTTP front is not served: start the LocalCloud with serve=True")
        headers = {"Authorization": f"Bearer {self.admin_key}"}
        # The cloud is on loopback: a proxy from the environment must not be in the way.
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=60, trust_env=False)

    def deploy_examples(self) -> list[str]:
        """Deploy every examples/*.yaml (native workflow files) through the API; their ids."""
        assert self.plan is not None
        directory = self._examples_dir or self.plan.template_path.parent / "examples"
        deployed: list[str] = []
        with self.http() as http:
            for path in sorted(directory.glob("*.yaml")):
                document = yaml.safe_load(path.read_text(encoding="utf-8"))
                if not isinstance(document, dict) or document.get("kind") == "app":
                    continue  # Dify DSL exports are imported through their own route
                response = http.post("/workflows", json={**document, "id": path.stem})
                if response.status_code >= 300:
                    raise RuntimeError(
                        f"deploying {path.name} failed ({response.status_code}): {response.text}"
                    )
                deployed.append(path.stem)
        return deployed

    def invoke(self, function: str, event: Any) -> InvocationResult:
        """Run one function (logical id or short name: `api`, `node`...) on `event`."""
        assert self.plan is not None and self.runner is not None
        spec = self.plan.function(function)
        return self.runner.invoke(spec.function_name, json.loads(json.dumps(event)))
