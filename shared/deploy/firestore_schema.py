"""Terraform's input for Firestore: ``infra/modules/firestore/schema.json``.

Written from :mod:`shared.adapters.firestore_schema` (the indexes the adapters' queries need
and the TTL policies of transient documents); a test fails when the file is out of date.
Run ``python -m shared.deploy.firestore_schema`` after changing a query.
"""

from __future__ import annotations

import json

from shared.adapters.firestore_schema import TTL_POLICIES, composite_indexes
from shared.sqlfiles import SQL_DIR

OUTPUT = SQL_DIR.parent / "infra" / "modules" / "firestore" / "schema.json"


def render() -> str:
    document = {
        "_generated_by": "python -m shared.deploy.firestore_schema (do not edit)",
        "indexes": [
            {
                "id": index.id,
                "collection_group": index.collection_group,
                "query_scope": index.scope,
                "fields": [{"field_path": name, "order": way} for name, way in index.fields],
            }
            for index in composite_indexes()
        ],
        "ttl": [
            {"collection_group": policy.collection_group, "field": policy.field}
            for policy in TTL_POLICIES
        ],
    }
    return json.dumps(document, indent=2) + "\n"


def main() -> None:
    OUTPUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
