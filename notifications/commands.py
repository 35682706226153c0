"""Operator commands: `flask --app wsgi:notifications_app <command>`."""
import functools
import json
from datetime import datetime, timezone

import click
import redis
from flask.cli import with_appcontext

from .controllers.email import list_dead_letters, requeue_dead_letters
from .controllers.sender import send_queued


def redis_errors_as_click(command):
    """Report an unreachable Redis as a one-line CLI error."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except redis.RedisError as exc:
            raise click.ClickException(f"Redis unavailable: {type(exc).__name__}") from None

    return wrapper


@click.command("send-queued")
@with_appcontext
@redis_errors_as_click
def send_queued_command():
    """Send every queued e-mail that is due, once, and print the outcome counts."""
    stats = send_queued()
    click.echo(" ".join(f"{name}={stats[name]}" for name in ("sent", "retried", "dead", "skipped", "reclaimed", "promoted")))


@click.command("list-dead-letters")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line, without the e-mail content.")
@with_appcontext
@redis_errors_as_click
def list_dead_letters_command(as_json):
    """List the e-mails that used up their attempts (content is never printed)."""
    jobs = list_dead_letters()
    for job in jobs:
        summary = {
            "id": job.get("id"),
            "to": job.get("to"),
            "template": job.get("template") or ("raw" if "subject" in job else None),
            "attempts": job.get("attempts"),
            "lastError": job.get("lastError"),
            "failedAt": _iso(job.get("failedAt")),
        }
        if as_json:
            click.echo(json.dumps(summary))
        else:
            click.echo("  ".join(f"{key}={value}" for key, value in summary.items()))
    if not as_json:
        click.echo(f"{len(jobs)} dead letter(s)")


@click.command("requeue-dead-letters")
@click.option("--id", "job_id", help="Requeue only this job id (default: all).")
@with_appcontext
@redis_errors_as_click
def requeue_dead_letters_command(job_id):
    """Put dead-lettered e-mails back in the queue with fresh attempts."""
    jobs = requeue_dead_letters(job_id)
    click.echo(f"requeued {len(jobs)} e-mail(s)")


def _iso(epoch):
    """Format epoch seconds as ISO-8601 UTC, or None."""
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat() if epoch else None


COMMANDS = (send_queued_command, list_dead_letters_command, requeue_dead_letters_command)
