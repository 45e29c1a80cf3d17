#!/usr/bin/env bash
# `npm run deploy:aws`: builds the Lambda bundle, uploads it under a content-hashed key to an
# artifacts bucket, and creates or updates the CloudFormation stack (infra/aws/template.yaml).
# Needs the AWS CLI (v1 or v2) with credentials allowed to manage CloudFormation, IAM roles,
# Lambda, S3, Logs and EventBridge (and CloudFront when BERTH_DOMAIN_NAME is set).
#
# Environment (all optional):
#   AWS_REGION                   region to deploy to (else the CLI's configured region)
#   BERTH_STACK_NAME             stack name (default: berth)
#   BERTH_ARTIFACTS_BUCKET       bucket for the code zip (default: berth-artifacts-<account>-<region>,
#                                created private on first use)
#   BERTH_ADMIN_PASSWORD_PARAM   SSM SecureString name (e.g. /berth/admin-password) for the admin password
#   BERTH_JWT_PRIVATE_KEY_PARAM  SSM SecureString name for the token-signing key
#   BERTH_SECRETS_KMS_KEY_ARN    customer managed KMS key of those parameters, if any
#   BERTH_PUBLIC_REPOS           repository globs pullable without credentials
#   BERTH_DOMAIN_NAME, BERTH_CERTIFICATE_ARN   custom domain through CloudFront (us-east-1 cert)
#   BERTH_MEMORY_MB, BERTH_TIMEOUT_SECONDS, BERTH_RUNTIME, BERTH_UPLOAD_EXPIRY_DAYS,
#   BERTH_LOG_RETENTION_DAYS, BERTH_CLEANUP_SCHEDULE   override the template's defaults
# Parameters not given keep their previous value on an update (cloudformation deploy's rule).
set -euo pipefail
cd "$(dirname "$0")/../.."

command -v aws >/dev/null || { echo "deploy:aws needs the AWS CLI (aws)" >&2; exit 1; }
stack="${BERTH_STACK_NAME:-berth}"
region="${AWS_REGION:-${AWS_DEFAULT_REGION:-$(aws configure get region || true)}}"
[ -n "$region" ] || { echo "set AWS_REGION" >&2; exit 1; }
export AWS_REGION="$region" AWS_DEFAULT_REGION="$region"

npm run --silent build:aws
zip_file=dist/aws/berth-lambda.zip

account="$(aws sts get-caller-identity --query Account --output text)"
artifacts="${BERTH_ARTIFACTS_BUCKET:-berth-artifacts-$account-$region}"
if ! aws s3api head-bucket --bucket "$artifacts" >/dev/null 2>&1; then
  echo "creating artifacts bucket $artifacts"
  if [ "$region" = "us-east-1" ]; then
    aws s3api create-bucket --bucket "$artifacts" >/dev/null
  else
    aws s3api create-bucket --bucket "$artifacts" \
      --create-bucket-configuration "LocationConstraint=$region" >/dev/null
  fi
  aws s3api put-public-access-block --bucket "$artifacts" --public-access-block-configuration \
    BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
fi

# A new build is a new key, so CloudFormation sees a change and updates both functions.
hash="$(sha256sum "$zip_file" | cut -c1-16)"
key="berth/berth-lambda-$hash.zip"
aws s3 cp --only-show-errors "$zip_file" "s3://$artifacts/$key"

params=("CodeBucket=$artifacts" "CodeKey=$key")
add() { if [ -n "${2:-}" ]; then params+=("$1=$2"); fi; }
add AdminPasswordParameterName "${BERTH_ADMIN_PASSWORD_PARAM:-}"
add JwtPrivateKeyParameterName "${BERTH_JWT_PRIVATE_KEY_PARAM:-}"
add SecretsKmsKeyArn "${BERTH_SECRETS_KMS_KEY_ARN:-}"
add PublicRepos "${BERTH_PUBLIC_REPOS:-}"
add DomainName "${BERTH_DOMAIN_NAME:-}"
add CertificateArn "${BERTH_CERTIFICATE_ARN:-}"
add MemorySize "${BERTH_MEMORY_MB:-}"
add Timeout "${BERTH_TIMEOUT_SECONDS:-}"
add Runtime "${BERTH_RUNTIME:-}"
add UploadExpiryDays "${BERTH_UPLOAD_EXPIRY_DAYS:-}"
add LogRetentionDays "${BERTH_LOG_RETENTION_DAYS:-}"
add CleanupScheduleExpression "${BERTH_CLEANUP_SCHEDULE:-}"

aws cloudformation deploy \
  --stack-name "$stack" \
  --template-file infra/aws/template.yaml \
  --capabilities CAPABILITY_IAM \
  --no-fail-on-empty-changeset \
  --parameter-overrides "${params[@]}"

aws cloudformation describe-stacks --stack-name "$stack" \
  --query 'Stacks[0].Outputs[].[OutputKey,OutputValue]' --output text
