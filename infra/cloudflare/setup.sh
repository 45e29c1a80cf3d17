#!/usr/bin/env bash
# One-time set-up of Berth on Cloudflare Workers + R2 (see README.md next to this file).
# Needs a Cloudflare login: `npx wrangler login`, or CLOUDFLARE_API_TOKEN (+ CLOUDFLARE_ACCOUNT_ID).
#
# Inputs (environment):
#   BERTH_R2_BUCKET        bucket name (default: berth; must match bucket_name in wrangler.toml)
#   BERTH_ADMIN_PASSWORD   password of the first admin account (asked for when unset)
#   BERTH_JWT_PRIVATE_KEY  ES256 PKCS8 PEM or JWK; when unset, one is generated here with openssl
#   R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY
#                          optional R2 API token (Object Read only is enough) for presigned pulls
# Re-running is safe: existing bucket and lifecycle rule are kept, secrets are overwritten.
set -euo pipefail
cd "$(dirname "$0")/../.."

export WRANGLER_SEND_METRICS=false
wrangler() { npx --no-install wrangler "$@"; }

bucket="${BERTH_R2_BUCKET:-berth}"

echo "== account"
wrangler whoami

echo "== R2 bucket '$bucket'"
if wrangler r2 bucket info "$bucket" >/dev/null 2>&1; then
  echo "bucket exists"
else
  wrangler r2 bucket create "$bucket"
fi
# Safety net under the registry's own cleanup cron: R2 drops multipart uploads left unfinished.
wrangler r2 bucket lifecycle add "$bucket" berth-abort-multipart --abort-multipart-days 2 --force \
  || echo "(lifecycle rule not added; it may exist already)"

echo "== deploy (secrets need the Worker to exist; each secret then rolls out on its own)"
wrangler deploy

echo "== secrets"
if [[ -z "${BERTH_ADMIN_PASSWORD:-}" ]]; then
  read -r -s -p "Password for the Berth admin account (at least 12 characters): " BERTH_ADMIN_PASSWORD
  echo
fi
printf '%s' "$BERTH_ADMIN_PASSWORD" | wrangler secret put BERTH_ADMIN_PASSWORD

if [[ -z "${BERTH_JWT_PRIVATE_KEY:-}" ]]; then
  # A fixed key keeps tokens valid across deploys and does not depend on the bucket's copy.
  BERTH_JWT_PRIVATE_KEY="$(openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null)"
fi
printf '%s' "$BERTH_JWT_PRIVATE_KEY" | wrangler secret put BERTH_JWT_PRIVATE_KEY

if [[ -n "${R2_ACCESS_KEY_ID:-}" && -n "${R2_SECRET_ACCESS_KEY:-}" ]]; then
  printf '%s' "$R2_ACCESS_KEY_ID" | wrangler secret put R2_ACCESS_KEY_ID
  printf '%s' "$R2_SECRET_ACCESS_KEY" | wrangler secret put R2_SECRET_ACCESS_KEY
  echo "presigned pulls: also set R2_ACCOUNT_ID and R2_BUCKET_NAME under [vars] in wrangler.toml"
else
  echo "presigned pulls off (no R2_ACCESS_KEY_ID/R2_SECRET_ACCESS_KEY): blobs stream through the Worker"
fi

echo "done: try  docker login <your worker URL or custom domain>  with user admin"
