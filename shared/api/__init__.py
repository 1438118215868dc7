"""The campaign REST API: a FastAPI app served by the ``api`` Cloud Function."""
