"""The HTTP stack's own limit: a FastAPI endpoint that does nothing, served like ours."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.post("/empty")
async def empty() -> dict[str, bool]:
    return {"ok": True}


@app.get("/health")
async def health() -> dict[str, bool]:
    return {"ok": True}
