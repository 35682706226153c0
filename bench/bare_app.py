"""The baseline of scenario 2: bare Flask returning a small JSON body, served like user_management.

    gunicorn -c user_management/gunicorn.conf.py 'bench.bare_app:app'
"""
from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/ping")
def ping():
    """A small JSON body, nothing else."""
    return jsonify(success=True, message="pong")
