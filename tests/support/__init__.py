"""Helpers shared by the test suites (and the benchmarks); fixtures stay in the conftest.py files.

    factory      PASSWORD, the test-data Factory, the test_* database guard
    redis_store  REDIS_URL, key clean-up, Socket.IO subscribers, the e-mail queue's counts
    processes    real service processes (gunicorn, serve.py), their logs, free_port, wait_until
    smtp         a real SMTP server and reading the messages it received
    sockets      python-socketio clients and `settle`, the barrier before a "must not arrive" check
    api          the user_management HTTP API over real HTTP (end-to-end and browser tests)
    two_factor   login and second-factor calls through the Flask test client
    tokens       access tokens as user_management mints them, for the notifications tests
    nginx        run nginx on a config file

Inside this package imports are relative, so it also imports as `tests.support` (bench/ does).
"""
