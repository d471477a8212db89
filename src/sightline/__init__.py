"""Sightline: a self-hosted analytics backend serving dashboard numbers in milliseconds."""
