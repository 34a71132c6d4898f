# Sourced by the other scripts: make sure .venv exists and holds the project with its dev extras.
# Re-installs only when pyproject.toml changed since the last install.

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$repo_root/.venv"
python_bin=${PYTHON:-python3}

if ! command -v "$python_bin" >/dev/null 2>&1; then
  echo "scripts: $python_bin not found; install Python 3.11 or newer (Debian: apt-get install python3)" >&2
  exit 1
fi

if [ ! -x "$venv/bin/python" ]; then
  if ! "$python_bin" -m venv "$venv" 2>/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "scripts: installing python3-venv" >&2
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      rm -rf "$venv"
      "$python_bin" -m venv "$venv"
    else
      echo "scripts: cannot create a virtual environment; install python3-venv" >&2
      exit 1
    fi
  fi
fi

stamp="$venv/.installed-from"
if [ ! -f "$stamp" ] || ! cmp -s "$repo_root/pyproject.toml" "$stamp"; then
  echo "scripts: installing voipbridge and its dev dependencies into .venv" >&2
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet -e "$repo_root[dev]"
  cp "$repo_root/pyproject.toml" "$stamp"
fi
