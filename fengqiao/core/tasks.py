"""Periodic jobs that belong to no one app."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from fengqiao.core.audit import audit_verify

log = logging.getLogger("fengqiao.audit")


@db_periodic_task(crontab(hour="3", minute="17"))
def audit_chain_nightly() -> bool:
    """Check the audit chain every night; a broken chain is logged as an error."""
    result = audit_verify()
    if not result.ok:
        log.error("Audit chain broken: %s", result.problem)
    return result.ok
