#!/usr/bin/env bash
# Install the voipbridge API scripts (voipbridge-fusionpbx-api) into FusionPBX's web root, or
# remove them again with --uninstall. Run as root on the FusionPBX host from this folder:
#
#   ./install.sh [--target /var/www/fusionpbx] [--state-dir /var/lib/voipbridge-fusionpbx-api]
#                [--owner www-data] [--uninstall]
#
# Files are copied to TARGET/app/... owned by the invoking user (root) and readable by all; a
# file of the same name that is not one of ours is never overwritten (nothing is changed then).
# chkcon_whitelist.conf is created from its example only when missing, readable by --owner; the
# state directory (rate limit counters) is created writable by --owner. --uninstall removes only
# files carrying our marker and keeps the whitelist, settings.ini and the state directory.
set -euo pipefail

target=/var/www/fusionpbx
state_dir=/var/lib/voipbridge-fusionpbx-api
owner=www-data
action=install
marker=voipbridge-fusionpbx-api
source_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/app

fail() { echo "install: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --target) target=${2:?--target needs a directory}; shift 2 ;;
    --state-dir) state_dir=${2:?--state-dir needs a directory}; shift 2 ;;
    --owner) owner=${2:?--owner needs a user}; shift 2 ;;
    --uninstall) action=uninstall; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) fail "unknown argument $1 (see --help)" ;;
  esac
done

[ -d "$target" ] || fail "$target is not a directory; give FusionPBX's web root with --target"
cd "$source_dir"
mapfile -t files < <(find . -type f \( -name '*.php' -o -name '*.example' \) | sed 's|^\./||' | sort)
whitelist="$target/app/xml_cdr/chkcon_whitelist.conf"
can_chown=0
if [ "$(id -u)" = 0 ] && id "$owner" >/dev/null 2>&1; then
  can_chown=1
fi

if [ "$action" = uninstall ]; then
  for file in "${files[@]}"; do
    dest="$target/app/$file"
    if [ -f "$dest" ] && grep -q "$marker" "$dest"; then
      rm -f "$dest"
      echo "removed $dest"
    fi
  done
  for dir in "$target/app/status" "$target/app/voipbridge_api"; do
    rmdir "$dir" 2>/dev/null && echo "removed $dir/" || true
  done
  echo "kept (remove by hand when no longer needed): $whitelist," \
    "$target/app/voipbridge_api/settings.ini (if any), $state_dir"
  exit 0
fi

conflicts=()
for file in "${files[@]}"; do
  dest="$target/app/$file"
  if [ -e "$dest" ] && ! grep -q "$marker" "$dest"; then
    conflicts+=("$dest")
  fi
done
if [ ${#conflicts[@]} -gt 0 ]; then
  fail "refusing to overwrite files that are not ours (nothing was changed): ${conflicts[*]}"
fi

for file in "${files[@]}"; do
  install -D -m 0644 "$file" "$target/app/$file"
  echo "installed $target/app/$file"
done
if [ ! -e "$whitelist" ]; then
  install -m 0640 xml_cdr/chkcon_whitelist.conf.example "$whitelist"
  if [ "$can_chown" = 1 ]; then chgrp "$owner" "$whitelist"; fi
  echo "created $whitelist (only 127.0.0.1 and ::1 so far: add your WHMCS server's address)"
else
  echo "kept $whitelist"
fi
install -d -m 0750 "$state_dir"
if [ "$can_chown" = 1 ]; then chown "$owner" "$state_dir"; fi
echo "state directory $state_dir"
echo "done; next: edit $whitelist, then test with"
echo "  curl -s -X POST https://THIS-HOST/app/xml_cdr/chkcon.php"
