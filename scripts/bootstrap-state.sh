#!/usr/bin/env bash
# Create the shared Pulumi state bucket once (idempotent), locked down, and print the backend URL.
# docs/state.md explains the choices.
#
#   scripts/bootstrap-state.sh s3 <bucket> [--region R] [--endpoint https://host:port]
#       AWS S3, or any S3-compatible store with --endpoint (MinIO, Ceph, R2...). Needs the aws CLI and
#       credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or a profile).
#   scripts/bootstrap-state.sh gcs <bucket> [--region R]          needs gcloud, logged in
#   scripts/bootstrap-state.sh azblob <account> <container> [--resource-group G] [--region R]   needs az
#
# Every bucket gets versioning (a bad write to the state can be undone), encryption at rest, no public
# access, and old versions expire after 90 days.
set -euo pipefail
usage="usage: scripts/bootstrap-state.sh s3 <bucket> [--region R] [--endpoint URL]
       scripts/bootstrap-state.sh gcs <bucket> [--region R]
       scripts/bootstrap-state.sh azblob <account> <container> [--resource-group G] [--region R]"
fail() { echo "error: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null || fail "the $1 CLI is not installed (docs/state.md lists what each store needs)."; }

kind=${1:-}
[ -n "$kind" ] || fail "$usage"
shift
region=
endpoint=
group=
positional=()
while [ $# -gt 0 ]; do
  case "$1" in
    --region) region=${2:?--region needs a value}; shift 2 ;;
    --endpoint) endpoint=${2:?--endpoint needs a value}; shift 2 ;;
    --resource-group) group=${2:?--resource-group needs a value}; shift 2 ;;
    -*) fail "unknown option $1
$usage" ;;
    *) positional+=("$1"); shift ;;
  esac
done
name_ok() { [[ "$1" =~ ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$ ]] || fail "'$1' is not a valid bucket/container name"; }

case "$kind" in
  s3)
    [ ${#positional[@]} -eq 1 ] || fail "$usage"
    bucket=${positional[0]}
    name_ok "$bucket"
    need aws
    region=${region:-${AWS_REGION:-us-east-1}}
    aws_=(aws --region "$region")
    [ -z "$endpoint" ] || aws_+=(--endpoint-url "$endpoint")
    if "${aws_[@]}" s3api head-bucket --bucket "$bucket" >/dev/null 2>&1; then
      echo "bucket $bucket exists; making sure it is locked down"
    elif [ "$region" = us-east-1 ] || [ -n "$endpoint" ]; then
      "${aws_[@]}" s3api create-bucket --bucket "$bucket" >/dev/null
    else
      "${aws_[@]}" s3api create-bucket --bucket "$bucket" \
        --create-bucket-configuration "LocationConstraint=$region" >/dev/null
    fi
    "${aws_[@]}" s3api put-bucket-versioning --bucket "$bucket" --versioning-configuration Status=Enabled
    "${aws_[@]}" s3api put-bucket-lifecycle-configuration --bucket "$bucket" --lifecycle-configuration \
      '{"Rules":[{"ID":"expire-old-state-versions","Status":"Enabled","Filter":{},"NoncurrentVersionExpiration":{"NoncurrentDays":90}}]}'
    if [ -z "$endpoint" ]; then
      # AWS only: S3-compatible stores encrypt and stay private by their own configuration.
      "${aws_[@]}" s3api put-bucket-encryption --bucket "$bucket" --server-side-encryption-configuration \
        '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}'
      "${aws_[@]}" s3api put-public-access-block --bucket "$bucket" --public-access-block-configuration \
        BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
      url="s3://$bucket?region=$region"
    else
      host=${endpoint#*://}
      url="s3://$bucket?endpoint=$host&region=$region&s3ForcePathStyle=true"
      [[ "$endpoint" != http://* ]] || url="$url&disableSSL=true"
    fi
    ;;
  gcs)
    [ ${#positional[@]} -eq 1 ] || fail "$usage"
    bucket=${positional[0]}
    name_ok "$bucket"
    need gcloud
    if gcloud storage buckets describe "gs://$bucket" >/dev/null 2>&1; then
      echo "bucket $bucket exists; making sure it is locked down"
    else
      gcloud storage buckets create "gs://$bucket" --location "${region:-EU}" --uniform-bucket-level-access \
        --public-access-prevention
    fi
    gcloud storage buckets update "gs://$bucket" --versioning
    lifecycle=$(mktemp)
    trap 'rm -f "$lifecycle"' EXIT
    echo '{"rule":[{"action":{"type":"Delete"},"condition":{"daysSinceNoncurrentTime":90}}]}' > "$lifecycle"
    gcloud storage buckets update "gs://$bucket" --lifecycle-file "$lifecycle"
    url="gs://$bucket"
    ;;
  azblob)
    [ ${#positional[@]} -eq 2 ] || fail "$usage"
    account=${positional[0]}
    container=${positional[1]}
    [[ "$account" =~ ^[a-z0-9]{3,24}$ ]] || fail "'$account' is not a valid storage account name"
    name_ok "$container"
    [ -n "$group" ] || fail "azblob needs --resource-group"
    need az
    if ! az storage account show --name "$account" --resource-group "$group" >/dev/null 2>&1; then
      az storage account create --name "$account" --resource-group "$group" --location "${region:-westeurope}" \
        --sku Standard_ZRS --kind StorageV2 --min-tls-version TLS1_2 --allow-blob-public-access false >/dev/null
    fi
    az storage account blob-service-properties update --account-name "$account" --resource-group "$group" \
      --enable-versioning true --enable-delete-retention true --delete-retention-days 90 >/dev/null
    az storage container create --name "$container" --account-name "$account" --auth-mode login >/dev/null
    url="azblob://$container?storage_account=$account"
    ;;
  *) fail "unknown store '$kind'
$usage" ;;
esac

echo "state bucket ready. Every shared-stack command needs:"
echo "  export PULUMI_BACKEND_URL='$url'"
