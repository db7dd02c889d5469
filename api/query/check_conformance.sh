#!/bin/sh
# Checks the EPCIS 2.0 event query against the GS1 EPCIS 2.0 JSON example documents (which are
# not in the repository): every example event, captured into a temporary ledger, is found by a
# MATCH_anyEPC (or eventType + GE_eventTime) query and by paging through everything; then the
# query document of all of them plus native events is validated against the EPCIS JSON schema.
#
#   api/query/check_conformance.sh BUILD_DIR EXAMPLES_DIR [SCHEMA_JSON]
#
# e.g. api/query/check_conformance.sh build/perf-rel /work/shared/conformance/epcis
# SCHEMA_JSON defaults to EXAMPLES_DIR/../schema/EPCIS-JSON-Schema.json; the schema step needs
# python3 with jsonschema (Debian: python3-jsonschema) and is skipped without it.
set -eu
build_dir=${1:?usage: check_conformance.sh BUILD_DIR EXAMPLES_DIR [SCHEMA_JSON]}
examples_dir=${2:?usage: check_conformance.sh BUILD_DIR EXAMPLES_DIR [SCHEMA_JSON]}
schema=${3:-$examples_dir/../schema/EPCIS-JSON-Schema.json}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

TL_EPCIS_CONFORMANCE_DIR=$examples_dir TL_QUERY_DOCUMENT_OUT=$out/query_document.json \
  "$build_dir/api/query/api_query_test" \
  --gtest_filter=EventQueryTest.EveryConformanceExampleIsFoundOnceCaptured
test -s "$out/query_document.json" || { echo "no query document written" >&2; exit 1; }

if ! python3 -c 'import jsonschema' 2>/dev/null; then
  echo "python3 jsonschema missing: schema validation skipped" >&2
  exit 0
fi
python3 - "$schema" "$out/query_document.json" <<'PY'
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
document = json.load(open(sys.argv[2]))
events = document["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
errors = list(jsonschema.Draft7Validator(schema).iter_errors(document))
for error in errors[:20]:
    print("schema:", "/".join(str(p) for p in error.absolute_path), error.message[:300])
if errors:
    sys.exit(1)
print("EPCISQueryDocument with %d events is valid against %s" % (len(events), sys.argv[1]))
PY
