#!/usr/bin/env bash
# Fetch umqtt.simple and umqtt.robust (micropython-lib's MQTT client, the one
# boards run) from PyPI for the unix port: DEST/umqtt/{simple,robust}.py, so
# DEST goes on MICROPYPATH. Idempotent: a verified, unpacked copy is reused.
#
# These are MicroPython-style sdists: `pip install` cannot use them (no
# setup.py in umqtt.simple), but `pip download` still resolves the release and
# names its sdist file. We take that file (from pip's download directory, or
# from the address in pip's refusal), check its pinned SHA-256 and unpack the
# one module we need. umqtt.robust's sdist carries an older simple.py of its
# own, which is not used.
set -euo pipefail

DEST=${1:?usage: fetch-umqtt.sh DEST_DIR}
# package  version  sha256-of-sdist  module
PINS=(
    "micropython-umqtt.simple 1.3.4 b6a2520239e3992c63a7de9370ee9b3d9d27819a90359c521f1c0f7ccab8d12f simple"
    "micropython-umqtt.robust 1.0 22a1b8c8e1128281efb13b3020927d07e33c5b747869da2cd77d37983a9ea002 robust"
)
STAMP="$DEST/.fetched-simple-1.3.4-robust-1.0"

if [ -f "$STAMP" ]; then
    exit 0
fi

DL="$DEST/dl"
mkdir -p "$DL" "$DEST/umqtt"

fetch() { # fetch PACKAGE VERSION SHA256 -> prints the verified sdist path
    local pkg=$1 ver=$2 sha=$3 file url log
    file=$(find "$DL" -maxdepth 1 -name "$pkg-$ver.tar.gz" | head -1)
    if [ -n "$file" ] && echo "$sha  $file" | sha256sum -c --quiet - 2>/dev/null; then
        echo "$file"
        return
    fi
    rm -f "$DL/$pkg-$ver.tar.gz"
    log=$(mktemp)
    # pip may succeed (the file is then in $DL) or refuse after downloading
    # (then it names the file's address); either way it resolved the release.
    python3 -m pip download --no-deps --no-binary :all: -d "$DL" "$pkg==$ver" >"$log" 2>&1 || true
    file="$DL/$pkg-$ver.tar.gz"
    if [ ! -f "$file" ]; then
        url=$(sed -nE 's/.* from (https?:\/\/[^ ]+\.tar\.gz).*/\1/p' "$log" | head -1)
        if [ -z "$url" ]; then
            echo "fetch-umqtt: pip did not name an sdist for $pkg==$ver:" >&2
            tail -5 "$log" >&2
            rm -f "$log"
            exit 1
        fi
        curl -sSfL -o "$file.part" "$url"
        mv "$file.part" "$file"
    fi
    rm -f "$log"
    if ! echo "$sha  $file" | sha256sum -c --quiet - 2>/dev/null; then
        echo "fetch-umqtt: $file does not match its pinned SHA-256" >&2
        rm -f "$file"
        exit 1
    fi
    echo "$file"
}

for pin in "${PINS[@]}"; do
    read -r pkg ver sha module <<<"$pin"
    sdist=$(fetch "$pkg" "$ver" "$sha")
    tar -xzf "$sdist" -O "$pkg-$ver/umqtt/$module.py" >"$DEST/umqtt/$module.py.part"
    mv "$DEST/umqtt/$module.py.part" "$DEST/umqtt/$module.py"
done
touch "$STAMP"
echo "fetch-umqtt: umqtt.simple 1.3.4 and umqtt.robust 1.0 ready in $DEST/umqtt"
