#!/usr/bin/env bash
# Prints the Debian mirror this machine's own apt configuration uses, so the
# scripts' private apt configurations (never the system's) fetch from the same
# place and no registry host is written into the repo.
set -euo pipefail
mirror=""
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
fi
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
    mirror=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list)
fi
if [ -z "$mirror" ]; then
    echo "debian-mirror: no Debian mirror found in /etc/apt" >&2
    exit 1
fi
echo "$mirror"
