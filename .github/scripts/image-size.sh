#!/usr/bin/env bash
# Fail when an image is bigger than the limit, and print its size in the job summary either way.
# Usage: image-size.sh IMAGE LIMIT_MB   (the image is in the local Docker daemon; MB = 10^6 bytes, as
# `docker images` prints them)
set -euo pipefail
image="$1"
limit_mb="$2"
bytes="$(docker image inspect --format '{{.Size}}' "$image")"
size_mb=$(( (bytes + 999999) / 1000000 ))
if [ "$size_mb" -le "$limit_mb" ]; then verdict="within"; else verdict="OVER"; fi
line="- \`${image}\`: **${size_mb} MB** (${verdict} the ${limit_mb} MB limit)"
echo "$line"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then echo "$line" >> "$GITHUB_STEP_SUMMARY"; fi
if [ "$verdict" = "OVER" ]; then
  echo "::error::${image} is ${size_mb} MB, above the ${limit_mb} MB limit (IMAGE_SIZE_LIMIT_MB)"
  exit 1
fi
