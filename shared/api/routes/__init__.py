"""One router per resource; :mod:`shared.api.app` lists them."""
