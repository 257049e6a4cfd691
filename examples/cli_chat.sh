#!/usr/bin/env bash
# The CLI front door: index, search, one question, then an interactive chat (follow-ups keep context).
#   bash examples/cli_chat.sh [VIDEO]
set -euo pipefail
video="${1:-$(dirname "$0")/trailer_bbb.mp4}"
videoqa index "$video"
videoqa search "$video" "an unlucky bird" -k 3
videoqa ask "$video" "When does the bird appear?"
videoqa chat "$video"
