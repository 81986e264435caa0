"""``GET /``: the live board (大屏), a static page that reads the API and the alert stream."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

BOARD_DIR = Path(__file__).resolve().parent.parent.parent / "board"

router = APIRouter(include_in_schema=False)


@router.get("/")
async def board() -> FileResponse:
    """The board page; it works offline (everything it needs is served from /board/)."""
    return FileResponse(BOARD_DIR / "index.html", media_type="text/html; charset=utf-8")


router.mount("/board", StaticFiles(directory=BOARD_DIR), name="board")
