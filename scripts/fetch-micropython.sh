#!/usr/bin/env bash
# Fetch MicroPython 1.25.0 from Debian's source package with a private apt
# configuration (the system's sources are never touched), verify the orig
# tarball and unpack it, with Debian's patch for building TLS against the
# system's mbedTLS. Idempotent: a verified, unpacked tree is reused.
set -euo pipefail

DEST=${1:?usage: fetch-micropython.sh DEST_DIR}
VERSION=1.25.0
ORIG=micropython_${VERSION}+ds.orig.tar.xz
SHA256=7b25be99a502f070b2de81dafc08da7051d992325d6e67daa9045a918fffdbea
STAMP="$DEST/.unpacked-$VERSION-tls"

if [ -f "$STAMP" ]; then
    exit 0
fi

APT="$DEST/apt"
mkdir -p "$APT/lists/partial" "$APT/archives/partial" "$DEST/dl"

# The mirror comes from the machine's own apt configuration, whatever it is.
mirror=$(bash "$(dirname "$0")/debian-mirror.sh")

echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" \
    > "$APT/sources.list"
opts=(
    -o "Dir::Etc::SourceList=$APT/sources.list"
    -o "Dir::Etc::SourceParts=/nonexistent"
    -o "Dir::State::Lists=$APT/lists"
    -o "Dir::Cache::Archives=$APT/archives"
    -o "APT::Sandbox::User=root"
)

if [ ! -f "$DEST/dl/$ORIG" ] || ! echo "$SHA256  $DEST/dl/$ORIG" | sha256sum -c --quiet - 2>/dev/null; then
    apt-get "${opts[@]}" -qq update
    # Whatever Debian revision of upstream $VERSION the suite serves now
    # (revisions change with point releases; the orig tarball, checked below,
    # is the same for all of them).
    served=$(apt-cache "${opts[@]}" showsrc micropython | awk '/^Version:/ {print $2}')
    deb_version=$(printf '%s\n' $served | grep -E "^$VERSION\+ds-" | sort -V | tail -n 1)
    [ -n "$deb_version" ] || {
        echo "fetch-micropython: the mirror's trixie serves no micropython $VERSION source (it has: ${served:-none})" >&2
        exit 1
    }
    rm -f "$DEST/dl"/micropython_*.dsc "$DEST/dl"/micropython_*.debian.tar.*
    (cd "$DEST/dl" && apt-get "${opts[@]}" -qq source --download-only "micropython=$deb_version")
fi
echo "$SHA256  $DEST/dl/$ORIG" | sha256sum -c --quiet -

rm -rf "$DEST/micropython"
mkdir -p "$DEST/micropython"
tar -xJf "$DEST/dl/$ORIG" -C "$DEST/micropython" --strip-components=1
# The source package lacks lib/mbedtls (a git submodule upstream); Debian
# builds the ssl module against its libmbedtls-dev with its own patch to
# extmod/extmod.mk, which we apply from the downloaded Debian tarball.
patch=debian/patches/0006-extmod-Use-system-mbedtls.patch
tar -xJf "$DEST"/dl/micropython_*.debian.tar.xz -O "$patch" | patch -s -p1 -d "$DEST/micropython" ||
    { echo "fetch-micropython: Debian's $patch did not apply" >&2; exit 1; }
touch "$STAMP"
echo "fetch-micropython: MicroPython $VERSION ready in $DEST/micropython"
