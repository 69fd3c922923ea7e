"""The one django-tasks task: run a recorded job (``services.job_execute``). Its only
argument is the job's id; what the job does is in its row (never a secret)."""

from __future__ import annotations

from django_tasks import task


@task()
def run_job(job_id: str) -> None:
    from brankas.web.jobs.services import job_execute

    job_execute(job_id)
