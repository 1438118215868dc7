"""Code shared by every Cloud Function of the campaign pipeline.

The layers, from the inside out: ``domain`` (pure rules, no I/O), ``campaigns`` (the targeting
processors), ``ports`` (what the services need from the outside world), ``adapters`` (one per
Google SDK), ``services`` (use cases), ``bootstrap`` (the one place that wires them together).
"""
