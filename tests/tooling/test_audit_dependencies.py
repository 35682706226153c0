"""scripts/audit_dependencies.py: vulnerabilities fail, an unreachable service only warns."""
import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "audit_dependencies.py"


@pytest.fixture
def audit(monkeypatch):
    spec = importlib.util.spec_from_file_location("audit_dependencies", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.delenv("AUDIT_REQUIRE_SERVICE", raising=False)

    def answer(code, data, stderr=""):
        monkeypatch.setattr(module, "run_pip_audit", lambda files: (code, data, stderr))
        return module

    return answer


def test_a_vulnerability_fails(audit, capsys):
    report = {"dependencies": [{"name": "flask", "version": "0.1", "vulns": [{"id": "PYSEC-1", "fix_versions": ["1.0"]}]},
                               {"name": "redis", "version": "7.4.1", "vulns": []}]}
    assert audit(1, report).main(["r.txt"]) == 1
    assert "VULNERABLE flask 0.1: PYSEC-1 (fixed in: 1.0)" in capsys.readouterr().out


def test_nothing_audited_warns_without_failing(audit, capsys):
    report = {"dependencies": [{"name": "flask", "skip_reason": "Dependency not found on PyPI and could not be audited"}]}
    assert audit(0, report).main(["r.txt"]) == 0
    assert "NOT audited" in capsys.readouterr().out


def test_nothing_audited_fails_when_the_service_is_required(audit, monkeypatch):
    monkeypatch.setenv("AUDIT_REQUIRE_SERVICE", "1")
    report = {"dependencies": [{"name": "flask", "skip_reason": "could not be audited"}]}
    assert audit(0, report).main(["r.txt"]) == 1


def test_connection_error_warns(audit, capsys):
    stderr = "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='api.osv.dev'): NameResolutionError"
    assert audit(1, None, stderr).main(["r.txt"]) == 0
    assert "NOT audited" in capsys.readouterr().out


def test_other_pip_audit_errors_fail(audit):
    assert audit(1, None, "ERROR: requirements file not found").main(["r.txt"]) == 1


def test_clean_audit_passes(audit, capsys):
    report = {"dependencies": [{"name": "flask", "version": "3.1.3", "vulns": []}]}
    assert audit(0, report).main(["r.txt"]) == 0
    assert "1 pinned packages audited" in capsys.readouterr().out
