"""The baseline of ``make bench``: a bare Starlette app on the fake's paths, doing no work.

It answers ``POST /api/v1/task`` and ``GET /api/v1/task/{task_id}`` with fixed JSON bodies of
the sizes the fake answers, so both servers write the same bytes under the same load. The POST
route reads the request body (any real endpoint must) and nothing else: no auth, no
validation, no state. ``python -m bench.bare_app --port P --create-bytes N --get-bytes M`` serves
it on the same uvicorn stack as ``piapi-mock serve`` (:func:`mock_server.server.uvicorn_options`).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import Final

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

CREATE_BYTES_ENV: Final = "PIAPI_BENCH_CREATE_BYTES"
GET_BYTES_ENV: Final = "PIAPI_BENCH_GET_BYTES"


def filler(size: int) -> bytes:
    """A JSON object of exactly ``size`` bytes (at least 12)."""
    if size < 12:
        raise ValueError(f"a filler body needs at least 12 bytes, not {size}")
    return b'{"pad":"' + b"x" * (size - 10) + b'"}'


def create(create_bytes: int | None = None, get_bytes: int | None = None) -> Starlette:
    """The bare app; sizes default to the environment (how ``uvicorn --factory`` calls it)."""
    create_body = filler(create_bytes or int(os.environ.get(CREATE_BYTES_ENV, "1400")))
    get_body = filler(get_bytes or int(os.environ.get(GET_BYTES_ENV, "1500")))

    async def create_task(request: Request) -> Response:
        await request.body()
        return Response(create_body, media_type="application/json")

    async def get_task(request: Request) -> Response:
        return Response(get_body, media_type="application/json")

    return Starlette(
        routes=[
            Route("/api/v1/task", create_task, methods=["POST"]),
            Route("/api/v1/task/{task_id}", get_task, methods=["GET"]),
        ]
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the bare app on 127.0.0.1 with ``serve``'s uvicorn stack."""
    import uvicorn

    from mock_server.server import uvicorn_config
    from mock_server.settings import Settings

    parser = argparse.ArgumentParser(prog="python -m bench.bare_app")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--create-bytes", type=int, default=1400)
    parser.add_argument("--get-bytes", type=int, default=1500)
    args = parser.parse_args(argv)
    settings = Settings(port=args.port)
    app = create(args.create_bytes, args.get_bytes)
    uvicorn.Server(uvicorn_config(app, settings)).run()


if __name__ == "__main__":
    main()
