#!/bin/sh
# Make sure the system libraries that Qt's window system plugins load are present (Debian/Ubuntu).
# Installs the missing ones when allowed to (root, or sudo without a password); otherwise prints
# the exact command and fails. Other systems: checks with ldd only and says what is missing.
set -u
PACKAGES="libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-randr0 \
libxcb-render-util0 libxcb-shape0 libxcb-xfixes0 libxcb-xkb1 libxcb-sync1 libx11-xcb1 \
libxkbcommon0 libxkbcommon-x11-0 libegl1 libgl1 libfontconfig1 libfreetype6 libglib2.0-0 \
libdbus-1-3"
PY="${1:-.venv/bin/python}"

if command -v dpkg-query >/dev/null 2>&1; then
    missing=""
    for p in $PACKAGES; do
        status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
        case "$status" in
            *"install ok installed"*) ;;
            *) missing="$missing $p" ;;
        esac
    done
    if [ -n "$missing" ]; then
        cmd="apt-get install -y --no-install-recommends$missing"
        if [ "$(id -u)" = "0" ]; then
            echo "Installing the system libraries Qt needs:$missing"
            (apt-get update -qq && DEBIAN_FRONTEND=noninteractive $cmd -qq >/dev/null) || {
                echo "Could not install them; run as root: apt-get update && $cmd" >&2; exit 1; }
        elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            echo "Installing the system libraries Qt needs (sudo):$missing"
            (sudo -n apt-get update -qq && sudo -n env DEBIAN_FRONTEND=noninteractive $cmd -qq >/dev/null) || {
                echo "Could not install them; run: sudo apt-get update && sudo $cmd" >&2; exit 1; }
        else
            echo "Quiver's window needs system libraries that are missing:$missing" >&2
            echo "Install them with:  sudo apt-get update && sudo $cmd" >&2
            exit 1
        fi
    fi
fi

# Whatever the system: every library of the X11 and offscreen platform plugins must resolve.
if [ -x "$PY" ]; then
    qt=$("$PY" -c 'import PySide6, os; print(os.path.join(os.path.dirname(PySide6.__file__), "Qt"))' 2>/dev/null)
    if [ -n "$qt" ] && command -v ldd >/dev/null 2>&1; then
        unresolved=$(for f in "$qt"/plugins/platforms/libqxcb.so "$qt"/plugins/platforms/libqoffscreen.so; do ldd "$f" 2>/dev/null; done | grep "not found" | sort -u)
        if [ -n "$unresolved" ]; then
            echo "Qt cannot load these system libraries:" >&2
            echo "$unresolved" >&2
            exit 1
        fi
    fi
fi
exit 0
