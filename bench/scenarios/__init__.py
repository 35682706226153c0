"""The scenarios, one module each: http (1 login and invite accept, 2 plain requests), sockets (3 fan-out), email (4)."""
