"""Deployment: template.yaml, the Makefile's Lambda packages and the dependency pins."""
