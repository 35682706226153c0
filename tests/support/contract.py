"""Shared by the contract tests: Schemathesis generates requests from each service's own OpenAPI document.

The apps under test are the real ones (real Redis, mongomock or MONGODB_URI, every hook,
Talisman, CORS, JWT checks) with rate limiting off, so the generated requests are not turned
into 429s. `FUZZ_MAX_EXAMPLES` raises the number of examples per operation (`make fuzz`).

The document is read when the module is collected (Schemathesis makes one test per operation
from it); each test then runs against a fresh app from the usual fixtures.
"""
import os
from pathlib import Path

from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

CONFIG_PATH = Path(__file__).resolve().parents[1] / "contract" / "schemathesis.toml"
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))


def contract_config():
    """The Schemathesis configuration shared by the contract tests."""
    return SchemathesisConfig.from_path(CONFIG_PATH)


# Bounded and reproducible: the same examples on every run, no per-example deadline (bcrypt, Redis).
contract_settings = settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
                             suppress_health_check=list(HealthCheck))


class LiveApp:
    """A WSGI app that forwards to whichever app the running test built.

    Schemathesis binds the app to the operations when it collects them; the apps themselves
    are built per test by the fixtures (fresh database and Redis prefix each time).
    """

    def __init__(self):
        self.app = None

    def __call__(self, environ, start_response):
        if self.app is None:
            raise RuntimeError("no app under test: use the live_app fixture")
        return self.app(environ, start_response)
