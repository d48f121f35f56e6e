"""Developer tooling run by the Makefile; not part of the app or its image."""
