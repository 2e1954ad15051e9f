"""Background jobs of the incidents app: the history import."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from fengqiao.incidents.imports import import_run


@db_task()
def incident_import(job_id: int) -> str:
    """Run one import job (queued on commit by the upload); return its final status."""
    return import_run(job_id=job_id).status
