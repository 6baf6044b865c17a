#!/usr/bin/env bash
# Bootstraps the build: restores the pinned Cake tool (.config/dotnet-tools.json), then runs build.cake.
#   ./build.sh --target=Run    the agent serving the sample models
#   ./build.sh --target=Test   set-up and all tests
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet tool restore >/dev/null
exec dotnet cake build.cake "$@"
