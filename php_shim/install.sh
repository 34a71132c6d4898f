#!/usr/bin/env bash
# Install (or upgrade) the voipbridge WHMCS server modules into a WHMCS installation:
#
#   ./install.sh /path/to/whmcs [--owner www-data]
#
# Copies modules/servers/{fusionpbx,vodia,lesnet}/ into WHMCS's modules/servers/ and the shared
# library lib/ into <WHMCS>/voipbridge/. An existing config.php is never touched; on the first
# install it is created from config.example.php, readable by --owner only (it holds the secret),
# and the cache/ folder (last ConfigOptions, for when the bridge is down) is made writable by it.
# Upgrading is running this again with the new files.
set -euo pipefail

owner=www-data
whmcs=""
source_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

fail() { echo "install: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --owner) owner=${2:?--owner needs a user}; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) fail "unknown option $1 (see --help)" ;;
    *) whmcs=$1; shift ;;
  esac
done

[ -n "$whmcs" ] || fail "give the WHMCS folder (the one holding configuration.php)"
[ -d "$whmcs/modules/servers" ] || fail "$whmcs has no modules/servers/; is it WHMCS's folder?"

for module in fusionpbx vodia lesnet; do
  mkdir -p "$whmcs/modules/servers/$module"
  cp "$source_dir/modules/servers/$module/"* "$whmcs/modules/servers/$module/"
  echo "installed $whmcs/modules/servers/$module/"
done

lib="$whmcs/voipbridge"
mkdir -p "$lib/cache"
for file in "$source_dir/lib/"*.php "$source_dir/lib/.htaccess"; do
  # A config.php in the source folder is a developer's own; the installed one is the operator's.
  [ "$(basename "$file")" = config.php ] || cp "$file" "$lib/"
done
echo "installed $lib/"

can_chown=0
if [ "$(id -u)" = 0 ] && id "$owner" >/dev/null 2>&1; then
  can_chown=1
fi
if [ ! -f "$lib/config.php" ]; then
  cp "$source_dir/lib/config.example.php" "$lib/config.php"
  chmod 640 "$lib/config.php"
  [ "$can_chown" = 1 ] && chown "root:$owner" "$lib/config.php"
  echo "created $lib/config.php: set bridge_url and secret in it"
else
  echo "kept $lib/config.php"
fi
chmod 770 "$lib/cache"
[ "$can_chown" = 1 ] && chown "root:$owner" "$lib/cache"
echo "next: set up a server and a product in WHMCS (see the README), and the cron lines"
