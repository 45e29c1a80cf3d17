#!/usr/bin/env bash
# Builds a stand-in for the official Node image on a machine that cannot pull from a registry
# (CI here reaches only Debian's mirrors and npm): a Debian 12 rootfs from Debian's own packages
# (mmdebstrap), with this machine's Node 20 and npm copied in, imported as a local image.
#
#   bash infra/docker/local-base.sh [image-name]      # default: berth-node-base:20-bookworm
#
# Then: BERTH_NODE_IMAGE=berth-node-base:20-bookworm npm run image
# Needs: mmdebstrap (apt-get install mmdebstrap), docker, node 20 + npm on PATH.
set -euo pipefail
image=${1:-berth-node-base:20-bookworm}

if docker image inspect "$image" >/dev/null 2>&1; then
  echo "local-base: $image already exists"
  exit 0
fi
command -v mmdebstrap >/dev/null || { echo "local-base: mmdebstrap is missing (apt-get install mmdebstrap)" >&2; exit 1; }
node_bin=$(command -v node)
node_bin=$(readlink -f "$node_bin")
major=$("$node_bin" -p 'process.versions.node.split(".")[0]')
((major >= 20)) || { echo "local-base: Node 20+ is required, found $("$node_bin" --version)" >&2; exit 1; }
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")   # …/node_modules/npm

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# minbase is Essential packages + apt; Node links libstdc++; ca-certificates lets npm use TLS.
mmdebstrap --quiet --variant=minbase --include=libstdc++6,ca-certificates \
  --customize-hook="copy-in $node_bin /usr/local/bin" \
  --customize-hook="mkdir -p \"\$1/usr/local/lib/node_modules\"" \
  --customize-hook="copy-in $npm_dir /usr/local/lib/node_modules" \
  --customize-hook="chroot \"\$1\" ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm" \
  --customize-hook="chroot \"\$1\" ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx" \
  --customize-hook="rm -rf \"\$1\"/var/lib/apt/lists/* \"\$1\"/var/cache/apt/*" \
  bookworm "$work/rootfs.tar"
docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["node"]' \
  "$work/rootfs.tar" "$image" >/dev/null
docker run --rm --network none "$image" node -e 'console.log(`local-base: ${process.argv0} ${process.version} in ${require("os").release()}`)'
echo "local-base: built $image"
