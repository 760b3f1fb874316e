"""Constants of the Mobiwork provider."""

PROVIDER_CODE = "mobiwork"
