#!/usr/bin/env bash
# Rebuilds the seed part of fuzz/corpus/ from the text protos in fuzz/seeds/
# (protoc --encode). Inputs found by fuzzing runs worth keeping are added to
# fuzz/corpus/<target>/ by hand or with libFuzzer's -merge=1, named for what
# they exercise or by their hash.
#   scripts/make-fuzz-corpus.sh
set -euo pipefail
cd "$(dirname "$0")/.."
encode() {  # encode MESSAGE PROTO TEXTPROTO
  protoc -Iproto -I/usr/include --encode="$1" "$2" < "$3"
}
intake=proto/switchboard/intake/v1/intake.proto
# request_validation_fuzzer: a first byte choosing the request, then the request.
selector=(submit get acknowledge resolve transfer)
message=(SubmitIssueRequest GetIssueRequest AcknowledgeIssueRequest ResolveIssueRequest
         TransferIssueRequest)
for i in "${!selector[@]}"; do
  for seed in fuzz/seeds/request_"${selector[$i]}"_*.textproto; do
    out="fuzz/corpus/request_validation_fuzzer/seed-$(basename "$seed" .textproto)"
    { printf "\\x$(printf %02x "$i")"; encode "switchboard.intake.v1.${message[$i]}" "$intake" "$seed"; } > "$out"
  done
done
for seed in fuzz/seeds/ruleset_*.textproto; do
  encode switchboard.routing.v1.Ruleset proto/switchboard/routing/v1/routing.proto \
    "$seed" > "fuzz/corpus/ruleset_fuzzer/seed-$(basename "$seed" .textproto)"
done
