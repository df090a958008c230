"""The task registry: jobs are registered by decorator and passed as functions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pxflask.queueing import DEFAULT_QUEUE, JobQueue

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Task:
    """A job function and the named queue it runs on."""

    func: Callable[..., Any]
    queue: str


TASKS: dict[str, Task] = {}
"""Every registered task by function name."""


def task(queue: str = DEFAULT_QUEUE) -> Callable[[F], F]:
    """Register a job function on a named queue ("sync" or "default")."""

    def register(func: F) -> F:
        """Keep the function in TASKS; it stays an ordinary function."""
        known = TASKS.get(func.__name__)
        if known is not None and known.func.__module__ != func.__module__:
            raise ValueError(f"two tasks named {func.__name__}")
        TASKS[func.__name__] = Task(func, queue)
        return func

    return register


def queue_of(func: Callable[..., Any]) -> str:
    """The queue a registered task runs on; an unregistered function is refused."""
    found = TASKS.get(getattr(func, "__name__", ""))
    if found is None or found.func is not func:
        raise LookupError(f"{func!r} is not a registered task (use @task)")
    return found.queue


def submit(
    queue: JobQueue,
    func: Callable[..., Any],
    *args: Any,
    job_id: str | None = None,
    **kwargs: Any,
) -> str:
    """Queue a registered task on its named queue; return the job id."""
    return queue.enqueue(func, *args, queue=queue_of(func), job_id=job_id, **kwargs)
