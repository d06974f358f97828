#!/usr/bin/env bash
# Create or update this workflow's own PR comment, found by the marker that `tools.review` writes on the
# first line of the body, so other bots' comments (e.g. the Pulumi preview) are never overwritten.
# Usage: upsert-pr-comment.sh PR_NUMBER BODY_FILE   (needs GH_TOKEN and REPO=owner/name)
set -euo pipefail
pr="$1"
body_file="$2"
marker="$(head -n 1 "$body_file")"
id="$(gh api --paginate "repos/$REPO/issues/$pr/comments" \
  --jq ".[] | select(.body | startswith(\"$marker\")) | .id" | tail -n 1)"
if [ -n "$id" ]; then
  gh api --method PATCH "repos/$REPO/issues/comments/$id" -F "body=@$body_file" > /dev/null
else
  gh api --method POST "repos/$REPO/issues/$pr/comments" -F "body=@$body_file" > /dev/null
fi
