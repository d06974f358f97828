#!/usr/bin/env bash
# Run an image's root filesystem the way the pods run it: root read-only, a tmpfs on /tmp (the pods'
# only scratch path), every process as UID 1000, in its own network namespace so the catalog's ports
# never clash with anything else on the machine. Started by tests/images/test_image_builds.py under
# `unshare --mount --net --pid --fork --mount-proc`; prints one result line per check, then stops.
# Usage: run-readonly.sh IMAGE_ROOT ROOT ENV_FILE WORKDIR HEALTHCHECK TIMEOUT HEALTH_URL -- CMD...
set -euo pipefail
image_root=$1 root=$2 env_file=$3 workdir=$4 healthcheck=$5 timeout=$6 health_url=$7
shift 7
[ "$1" = -- ] && shift

ip link set lo up
mount --make-rprivate /
mkdir -p "$root"
mount --bind "$image_root" "$root"
mount -o remount,bind,ro "$root"
mount -t tmpfs -o mode=1777,size=64m tmpfs "$root/tmp"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"

mapfile -t environment < "$env_file"
work=$(dirname "$env_file")
as_user() { chroot --userspec=1000:1000 "$root" /usr/bin/env -i "${environment[@]}" /bin/sh -c "$@"; }

# Output into a pipe owned by UID 1000, as a container runtime hands it over (runc gives the stdio fds to
# the container's user): supervisord reopens /dev/stdout for its programs as UID 1000.
mkfifo "$work/stdout"
chown 1000:1000 "$work/stdout"
cat "$work/stdout" > "$work/run.log" &
# shellcheck disable=SC2016  # expanded by the image's shell
as_user 'cd "$0" && exec "$@"' "$workdir" "$@" > "$work/stdout" 2>&1 &
deadline=$(( $(date +%s) + timeout ))
until as_user "$healthcheck" > /dev/null 2>&1; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "result unhealthy"
    tail -n 40 "$work/run.log"
    exit 0
  fi
  sleep 1
done
echo "result healthy"
if [ -n "$health_url" ]; then
  echo "result health-body $(as_user "wget -q -T 3 -O - $health_url" | head -c 300)"
fi
for status in /proc/[0-9]*/status; do
  name=$(awk '/^Name:/ {print $2}' "$status" 2>/dev/null || true)
  uid=$(awk '/^Uid:/ {print $2}' "$status" 2>/dev/null || true)
  [ -n "$name" ] && echo "result process $name $uid"
done
if chroot "$root" /bin/sh -c 'touch /read-only-probe' 2> "$work/probe.err"; then
  echo "result root-writable"
else
  echo "result root-read-only $(head -c 120 "$work/probe.err")"
fi
