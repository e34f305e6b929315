#!/bin/sh
# The artifact tag CI gives an environment branch's build: `<prefix>-<sha7 of the source commit>`.
#
#   sh artifact-tag.sh <tag prefix> [commit]     (inside the application repository; commit defaults to HEAD)
#
# The source commit is the head commit's `Promobot-Source` trailer (promobot writes it on every promotion
# and rollback commit), else the commit itself (a push to develop). Prints, in GITHUB_OUTPUT / dotenv form:
#   tag=<prefix>-<sha7>
#   source=<full source sha>
#   revision=<full sha of the commit built>
# Copy this file into application repositories as .promobot/artifact-tag.sh (the workflows call it there).
set -eu

prefix=${1:-}
commit=${2:-HEAD}
if ! printf '%s' "$prefix" | grep -Eq '^[a-z0-9][a-z0-9_.]{0,30}$'; then
  echo "artifact-tag: the tag prefix must match [a-z0-9][a-z0-9_.]* (got '$prefix')" >&2
  exit 2
fi
revision=$(git rev-parse --verify --quiet --end-of-options "$commit^{commit}") || {
  echo "artifact-tag: no commit '$commit' in this repository" >&2
  exit 2
}
trailer=$(git log -1 --format='%(trailers:key=Promobot-Source,valueonly,separator=%x20)' "$revision" --)
set -- $trailer
source=${1:-$revision}
if ! printf '%s' "$source" | grep -Eq '^[0-9a-f]{40}([0-9a-f]{24})?$'; then
  echo "artifact-tag: the Promobot-Source trailer of $revision is not a full commit id: '$source'" >&2
  exit 1
fi
printf 'tag=%s-%.7s\nsource=%s\nrevision=%s\n' "$prefix" "$source" "$source" "$revision"
