"""The worker: fires due timers (and whatever periodic jobs the packages register, such as the
email outbox). Runs as `workroom worker`, or inside the embedded `workroom run` process."""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

from workroom.services import Services

log = logging.getLogger(__name__)

Job = Callable[[Services], Awaitable[object]]


class Worker:
    def __init__(self, services: Services, *, interval: float = 1.0) -> None:
        self.services = services
        self.interval = interval
        self.jobs: list[Job] = [services.timers.run_due, *services.worker_jobs]
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="workroom-worker")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await self._task

    async def run_once(self) -> None:
        for job in self.jobs:
            try:
                await job(self.services)
            except Exception:  # one failing job (say, the database restarting) must not stop the loop
                log.exception("worker job %s failed; retrying next round", getattr(job, "__qualname__", job))

    async def run(self) -> None:
        while not self._stopping.is_set():
            await self.run_once()
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=self.interval)
            except asyncio.TimeoutError:
                pass
