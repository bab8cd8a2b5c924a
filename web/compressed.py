"""Large answers compressed for the browser that accepts gzip: the map's points and views,
the areas' boundaries, a planner's coverage map document. Only these: pages carry tokens,
and compressing them invites BREACH (the map document carries none)."""

from __future__ import annotations

import gzip

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

# Smaller bodies gain less than the header costs.
MIN_BYTES = 1024
# Larger ones are compressed in a thread (zlib lets go of the interpreter): a province's map
# document (3-5 MB) takes tens of milliseconds, which on the event loop every other request
# of the process would wait for. Below this, the thread hop would cost more than it saves.
THREAD_BYTES = 256 * 1024


async def compressed(
    request: Request, body: bytes, media_type: str, headers: dict[str, str]
) -> Response:
    """``body`` gzipped when the request accepts it and it is worth it (level 5: most of
    the gain at a fraction of the time of 9)."""
    headers = {**headers, "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", "").lower() and len(body) > MIN_BYTES:
        if len(body) > THREAD_BYTES:
            body = await run_in_threadpool(gzip.compress, body, compresslevel=5)
        else:
            body = gzip.compress(body, compresslevel=5)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=media_type, headers=headers)
