#!/usr/bin/env bash
# Rebuilds the seed part of fuzz/corpus/ from the text protos and strings in
# fuzz/seeds/ (protoc --encode). Inputs found by fuzzing runs worth keeping
# are added to fuzz/corpus/<target>/ by hand, named for what they exercise.
#   scripts/make-fuzz-corpus.sh
set -euo pipefail
cd "$(dirname "$0")/.."
encode() {  # encode MESSAGE PROTO TEXTPROTO OUT
  protoc -Iproto -I/usr/include --encode="$1" "$2" < "$3" > "$4"
}
for seed in fuzz/seeds/request_*.textproto; do
  encode switchboard.intake.v1.SubmitIssueRequest proto/switchboard/intake/v1/intake.proto \
    "$seed" "fuzz/corpus/request_validation_fuzzer/seed-$(basename "$seed" .textproto)"
done
for seed in fuzz/seeds/ruleset_*.textproto; do
  encode switchboard.routing.v1.Ruleset proto/switchboard/routing/v1/routing.proto \
    "$seed" "fuzz/corpus/ruleset_fuzzer/seed-$(basename "$seed" .textproto)"
done
