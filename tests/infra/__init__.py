"""Offline checks of the Terraform under ``infra/``: parsed with python-hcl2, scanned by checkov."""
