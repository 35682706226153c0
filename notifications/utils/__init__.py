"""Helpers shared by controllers, routes and commands."""
