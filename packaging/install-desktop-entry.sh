#!/bin/sh
# Add the bceviz bundle in this folder to your desktop's application menu
# (current user only: $XDG_DATA_HOME, default ~/.local/share). Run it again
# after moving the folder; remove with: install-desktop-entry.sh --remove
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
icons="$here/_internal/resources/icons"
sizes="16 24 32 48 64 128 256 512"
if [ "${1:-}" = "--remove" ]; then
    rm -f "$data/applications/bceviz.desktop"
    for s in $sizes; do rm -f "$data/icons/hicolor/${s}x${s}/apps/bceviz.png"; done
    echo "bceviz removed from the application menu"
    exit 0
fi
mkdir -p "$data/applications"
for s in $sizes; do
    mkdir -p "$data/icons/hicolor/${s}x${s}/apps"
    cp "$icons/bceviz-$s.png" "$data/icons/hicolor/${s}x${s}/apps/bceviz.png"
done
sed -e "s|^Exec=.*|Exec=\"$here/bceviz\"|" -e "s|^TryExec=.*|TryExec=$here/bceviz|" \
    "$here/bceviz.desktop" > "$data/applications/bceviz.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$data/applications" || true
echo "bceviz added to the application menu ($data/applications/bceviz.desktop)"
