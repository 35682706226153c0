"""Operational commands: create-superadmin and the bootstrap admin."""
import threading

from user_management.controllers.user_controller import bootstrap_super_admin
from user_management.models import User

STRONG_PASSWORD = "Quartz-Lantern-Orbit-93"


def test_create_superadmin(runner):
    result = runner.invoke(args=["create-superadmin", "--email", "Root@Example.test", "--password", STRONG_PASSWORD])
    assert result.exit_code == 0, result.output
    user = User.objects.get(email="root@example.test")
    assert user.role == "super_admin" and user.organization is None and user.is_active


def test_create_superadmin_prompts_for_the_password(runner):
    result = runner.invoke(args=["create-superadmin", "--email", "root@example.test"],
                           input=f"{STRONG_PASSWORD}\n{STRONG_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert STRONG_PASSWORD not in result.output
    assert User.objects(email="root@example.test").count() == 1


def test_created_superadmin_can_log_in(runner, client):
    runner.invoke(args=["create-superadmin", "--email", "root@example.test", "--password", STRONG_PASSWORD])
    response = client.post("/api/auth/login", json={"email": "root@example.test", "password": STRONG_PASSWORD})
    assert response.status_code == 200


def test_create_superadmin_refuses_a_weak_password(runner):
    result = runner.invoke(args=["create-superadmin", "--email", "root@example.test", "--password", "weak"])
    assert result.exit_code != 0 and "at least 8" in result.output
    assert User.objects.count() == 0


def test_create_superadmin_refuses_a_duplicate_email(runner):
    runner.invoke(args=["create-superadmin", "--email", "root@example.test", "--password", STRONG_PASSWORD])
    result = runner.invoke(args=["create-superadmin", "--email", "ROOT@example.test", "--password", STRONG_PASSWORD])
    assert result.exit_code != 0 and "already exists" in result.output
    assert User.objects.count() == 1


def test_bootstrap_admin_is_created_at_start_up_once(app_factory):
    settings = dict(BOOTSTRAP_ADMIN_EMAIL="boot@example.test", BOOTSTRAP_ADMIN_PASSWORD=STRONG_PASSWORD)
    app_factory(**settings)
    app_factory(**settings)
    assert User.objects(role="super_admin").count() == 1
    assert User.objects.get(role="super_admin").email == "boot@example.test"


def test_bootstrap_is_skipped_when_a_super_admin_exists(app, factory):
    factory.user("super_admin")
    assert bootstrap_super_admin("boot@example.test", STRONG_PASSWORD) is None
    assert User.objects(email="boot@example.test").count() == 0


def test_workers_starting_together_create_one_bootstrap_admin(app):
    barrier = threading.Barrier(6)

    def start_worker():
        with app.app_context():
            barrier.wait()
            bootstrap_super_admin("boot@example.test", STRONG_PASSWORD)

    threads = [threading.Thread(target=start_worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert User.objects(role="super_admin").count() == 1
