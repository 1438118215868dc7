"""Firestore as the template catalogue: ``users/{cnpj}/templates/{name}@{language}``.

One document per approved template, holding the model's fields. Seeding only ever creates
documents that are missing, so a template edited or synced from Meta is never put back to its
default by a re-registration; a sync writes its templates whole (Meta's ``components`` as one
JSON string: they nest arrays, which Firestore cannot store). A stored document that no
longer validates is left out of the list and logged (its path and the fields at fault, never
their values), rather than breaking every page that lists templates.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from contextlib import suppress
from typing import Any

from google.api_core import exceptions as api
from google.cloud import firestore

from shared import logs
from shared.adapters.errors import translated
from shared.domain.approved_templates import ApprovedTemplate
from shared.domain.cnpj import Cnpj
from shared.domain.errors import CorruptDocument, reading_document
from shared.ports import MAX_BATCH_WRITES, BatchTooLarge

_log = logging.getLogger(__name__)
_ATTEMPTS = 3


class FirestoreTemplateCatalogue:
    def __init__(self, client: firestore.Client) -> None:
        self._client = client

    def _collection(self, cnpj: Cnpj) -> firestore.CollectionReference:
        return self._client.collection("users", cnpj.value, "templates")

    def list(self, cnpj: Cnpj) -> list[ApprovedTemplate]:
        with translated("Firestore"):
            snapshots = list(self._collection(cnpj).stream())
        found = []
        for snapshot in snapshots:
            try:
                with reading_document(snapshot.reference.path):
                    found.append(ApprovedTemplate.model_validate(_model(snapshot.to_dict() or {})))
            except CorruptDocument as error:
                logs.log(
                    _log,
                    logging.WARNING,
                    "stored template ignored: it does not validate",
                    tenant=cnpj.value,
                    template=snapshot.id,
                    error=str(error),
                )
        return sorted(found, key=lambda t: (t.name, t.language))

    def add_missing(self, cnpj: Cnpj, templates: Sequence[ApprovedTemplate]) -> int:
        if len(templates) > MAX_BATCH_WRITES:
            raise BatchTooLarge(f"at most {MAX_BATCH_WRITES} templates at once")
        refs = {t.key: self._collection(cnpj).document(t.key) for t in templates}
        for attempt in range(_ATTEMPTS):
            with translated("Firestore"):
                present = {s.id for s in self._client.get_all(list(refs.values())) if s.exists}
            missing = [t for t in templates if t.key not in present]
            if not missing:
                return 0
            batch = self._client.batch()
            for template in missing:
                batch.create(refs[template.key], _document(template))
            with translated("Firestore"):
                try:
                    batch.commit()
                except api.Conflict:  # another registration created one meanwhile: read again
                    if attempt == _ATTEMPTS - 1:
                        raise
                    continue
            return len(missing)
        return 0

    def store(self, cnpj: Cnpj, templates: Sequence[ApprovedTemplate]) -> None:
        for start in range(0, len(templates), MAX_BATCH_WRITES):
            batch = self._client.batch()
            for template in templates[start : start + MAX_BATCH_WRITES]:
                batch.set(self._collection(cnpj).document(template.key), _document(template))
            with translated("Firestore"):
                batch.commit()


def _document(template: ApprovedTemplate) -> dict[str, object]:
    document = template.model_dump(mode="json", exclude={"content"})  # derived, never stored
    # Meta's components nest arrays (``example.body_text: [[...]]``), which Firestore refuses.
    document["components"] = json.dumps(document["components"], ensure_ascii=False)
    return document


def _model(document: dict[str, Any]) -> dict[str, Any]:
    components = document.get("components")
    if isinstance(components, str):
        with suppress(ValueError):  # else left as is: validation reports the field
            document["components"] = json.loads(components)
    return document
