"""Contract-testing kit for PiAPI's task API: strategies, checks, state machine, client kit.

It knows only the schemas (through :mod:`mock_server.schema_registry`) and HTTP, never the
fake's domain, so the same checks run against the fake, the real PiAPI and any client.

Public API (stable names for the pytest plugin and for users):

* strategies: :func:`valid_requests`, :func:`invalid_requests` (:class:`Invalid`),
  :func:`tasks`, :func:`envelopes`, :func:`error_envelopes`, :func:`webhook_bodies`;
* server side: :class:`Endpoint` (any ``httpx.Client`` + key), :func:`run_suite` with
  :class:`SuiteOptions` giving a :class:`SuiteReport`; :data:`CHECKS`, :class:`Checker`,
  :class:`ContractFailure`; :func:`lifecycle_machine`; :func:`asgi_client` (sync client to an
  in-process ASGI app);
* client side: :class:`ContractRouter` / :func:`contract_router` (respx), raising
  :class:`ClientContractError`; :func:`check_request` for one ``httpx.Request``.

Importing the package is cheap (names load on first use), so ``piapi-mock serve`` and the
pytest plugin do not pay for Hypothesis and respx until they need them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contract_tests.asgi import PortalTransport, asgi_client
    from contract_tests.checks import CHECKS, Checker
    from contract_tests.client import (
        ClientContractError,
        ClientViolation,
        ContractRouter,
        check_request,
        contract_router,
    )
    from contract_tests.drawn_server import DrawnServer
    from contract_tests.drawn_tasks import envelopes, error_envelopes, tasks, webhook_bodies
    from contract_tests.endpoint import Endpoint, Exchange
    from contract_tests.failures import ContractFailure
    from contract_tests.invalid import Invalid, invalid_requests
    from contract_tests.stateful import Budget, MachineConfig, lifecycle_machine
    from contract_tests.strategies import valid_requests
    from contract_tests.suite import SuiteOptions, SuiteReport, run_suite

#: Public name -> the module that defines it.
_EXPORTS = {
    "Budget": "contract_tests.stateful",
    "CHECKS": "contract_tests.checks",
    "Checker": "contract_tests.checks",
    "ClientContractError": "contract_tests.client",
    "ClientViolation": "contract_tests.client",
    "ContractFailure": "contract_tests.failures",
    "ContractRouter": "contract_tests.client",
    "DrawnServer": "contract_tests.drawn_server",
    "Endpoint": "contract_tests.endpoint",
    "Exchange": "contract_tests.endpoint",
    "Invalid": "contract_tests.invalid",
    "MachineConfig": "contract_tests.stateful",
    "PortalTransport": "contract_tests.asgi",
    "SuiteOptions": "contract_tests.suite",
    "SuiteReport": "contract_tests.suite",
    "asgi_client": "contract_tests.asgi",
    "check_request": "contract_tests.client",
    "contract_router": "contract_tests.client",
    "envelopes": "contract_tests.drawn_tasks",
    "error_envelopes": "contract_tests.drawn_tasks",
    "invalid_requests": "contract_tests.invalid",
    "lifecycle_machine": "contract_tests.stateful",
    "run_suite": "contract_tests.suite",
    "tasks": "contract_tests.drawn_tasks",
    "valid_requests": "contract_tests.strategies",
    "webhook_bodies": "contract_tests.drawn_tasks",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'contract_tests' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "CHECKS",
    "Budget",
    "Checker",
    "ClientContractError",
    "ClientViolation",
    "ContractFailure",
    "ContractRouter",
    "DrawnServer",
    "Endpoint",
    "Exchange",
    "Invalid",
    "MachineConfig",
    "PortalTransport",
    "SuiteOptions",
    "SuiteReport",
    "asgi_client",
    "check_request",
    "contract_router",
    "envelopes",
    "error_envelopes",
    "invalid_requests",
    "lifecycle_machine",
    "run_suite",
    "tasks",
    "valid_requests",
    "webhook_bodies",
]
