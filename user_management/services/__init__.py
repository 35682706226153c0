"""The floor below the controllers: the steps several controllers share.

Session life, guessing protection, second-factor challenges, password checks,
the audit log and the email outbox live here, so no controller imports another.
Services use models and utils, never controllers or routes (`.importlinter`).
"""
