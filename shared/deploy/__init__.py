"""What turns the repository into what Google Cloud runs: staged sources, locks, Terraform inputs.

Nothing here is deployed: no function imports this package, so the build leaves it out.
"""
