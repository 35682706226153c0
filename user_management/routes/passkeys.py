"""/api/auth/passkeys."""
from flask import Blueprint

bp = Blueprint("passkeys", __name__)
