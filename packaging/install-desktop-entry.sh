#!/usr/bin/env bash
# Add SignStudio to the desktop's application menu (Linux, freedesktop.org menus), for the
# checkout's .venv made by scripts/setup.sh. Removes nothing; run again after moving the checkout.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
exe="$root/.venv/bin/signstudio"
[ -x "$exe" ] || { echo "run scripts/setup.sh first ($exe not found)" >&2; exit 1; }
apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
mkdir -p "$apps"
sed -e "s|@EXEC@|$exe|" -e "s|@ICON@|$root/resources/icons/signstudio.svg|" \
  "$root/packaging/signstudio.desktop.in" > "$apps/signstudio.desktop"
echo "installed $apps/signstudio.desktop"
