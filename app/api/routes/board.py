"""``GET /``: the live board (大屏), a static page that reads the API and the alert stream.

The page and its scripts are plain files under ``app/board`` (no build step, nothing from the
internet). The page itself carries no data and needs no key; every API call it makes sends the
key the operator gave it.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

BOARD_DIR = Path(__file__).resolve().parent.parent.parent / "board"

# Only this origin: the board works offline, and a stray reference to a CDN fails loudly in the
# browser console instead of quietly phoning out from a duty-room screen. Inline style attributes
# are allowed for the bar widths; inline scripts are not.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)

BOARD_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    # the first load may carry ?key=...; never pass it on
    "Referrer-Policy": "no-referrer",
    # pick up a new board after a deploy without a hard reload
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
}

router = APIRouter(include_in_schema=False)


@router.get("/")
async def board() -> FileResponse:
    """The board page; it works offline (everything it needs is served from /board/)."""
    return FileResponse(
        BOARD_DIR / "index.html", media_type="text/html; charset=utf-8", headers=BOARD_HEADERS
    )


router.mount("/board", StaticFiles(directory=BOARD_DIR), name="board")
