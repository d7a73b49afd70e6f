"""Helpers shared by integration tests: worker processes, producers, engines for tests."""
