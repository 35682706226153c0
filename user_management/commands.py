"""Operational commands: `flask --app wsgi:user_management_app <command>`."""
import click
import mongoengine

from .exceptions import DomainError
from .keys_cli import keys
from .models import DOCUMENTS
from .utils import indexes


def register(app):
    """Attach the commands to `app`."""
    app.cli.add_command(keys)

    @app.cli.command("create-superadmin")
    @click.option("--email", required=True, help="Email address of the new super admin.")
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
                  help="Password (prompted for when omitted).")
    @click.option("--first-name", help="First name (default: Super, a placeholder the password may contain).")
    @click.option("--last-name", help="Last name (default: Admin, a placeholder the password may contain).")
    def create_superadmin(email, password, first_name, last_name):
        """Create a super_admin account (the first one cannot come from an invite)."""
        from .controllers.user_controller import create_super_admin

        try:
            user = create_super_admin(email, password, first_name, last_name)
        except DomainError as error:
            details = "; ".join(sum((list(v) for v in (error.errors or {}).values()), []))
            raise click.ClickException(f"{error.message}{': ' + details if details else ''}") from None
        click.echo(f"Created super_admin {user.email} ({user.id})")

    @app.cli.command("deliver-outbox")
    @click.option("--limit", default=100, show_default=True, help="At most this many emails.")
    def deliver_outbox(limit):
        """Hand the due emails of the outbox to the notifications service."""
        from .services.notification_client import deliver_due

        sent, failed = deliver_due(limit)
        click.echo(f"sent={sent} failed={failed}")

    @app.cli.command("list-dead-emails")
    def list_dead_emails():
        """List the outbox emails notifications refused for good or that ran out of attempts (never their content)."""
        from .services.notification_client import dead_emails

        rows = dead_emails()
        for row in rows:
            click.echo("  ".join(f"{key}={value}" for key, value in row.items()))
        click.echo(f"{len(rows)} dead email(s)")

    @app.cli.command("sync-indexes")
    @click.option("--dry-run", is_flag=True, help="Only print what would change.")
    @click.option("--prune", is_flag=True, help="Also drop indexes no model declares.")
    def sync_indexes(dry_run, prune):
        """Bring MongoDB's indexes in line with the models (the upgrade step after a release changes one).

        A changed expireAfterSeconds is applied in place (collMod); any other change drops and
        recreates the index. A unique index the data violates is refused before anything is dropped.
        """
        actions = indexes.plan_for(DOCUMENTS, prune=prune)
        if not actions:
            click.echo("indexes in sync")
            return
        for action in actions:
            click.echo(f"{'would ' if dry_run else ''}{action.describe()}")
        if dry_run:
            return
        done, refused = indexes.apply_plan(mongoengine.get_db(), actions)
        for action, note in refused:
            click.echo(f"refused {action.collection}.{action.index}: {note}", err=True)
        click.echo(f"applied {len(done)} change(s), refused {len(refused)}")
        if refused:
            raise SystemExit(1)
