"""Constants of the Cloudify provider."""

PROVIDER_CODE = "cloudify"
