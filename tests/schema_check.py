#!/usr/bin/env python3
"""schema_check.py SCHEMA FILE... - validate contend's JSON output against
its JSON Schema (docs/schema/), and prove the check has teeth: a copy of the
first file without a field the schema requires must fail.

Exit 0 valid, 1 invalid, 77 (ctest's skip) when python3-jsonschema is not
installed.
"""
import copy
import json
import sys

try:
    import jsonschema
except ImportError:
    print("schema_check: python3-jsonschema is not installed (ci/deps.sh installs it)")
    sys.exit(77)


def main():
    schema = json.load(open(sys.argv[1]))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    bad = 0
    docs = []
    for path in sys.argv[2:]:
        doc = json.load(open(path))
        docs.append(doc)
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        for e in errors[:10]:
            where = "/".join(str(p) for p in e.path)
            print(f"{path}: /{where}: {e.message}")
        bad += len(errors)
        if not errors:
            print(f"{path}: valid")
    # Teeth: drop one required field from the top and, when there are cases,
    # from the first case; each must be reported.
    if docs:
        doc = copy.deepcopy(docs[0])
        del doc[schema["required"][-1]]
        if validator.is_valid(doc):
            print("schema_check: a document without a required field passed")
            bad += 1
        case_def = schema.get("$defs", {}).get("case")
        if case_def and doc.get("cases"):
            doc = copy.deepcopy(docs[0])
            del doc["cases"][0][case_def["required"][0]]
            if validator.is_valid(doc):
                print("schema_check: a case without a required field passed")
                bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
