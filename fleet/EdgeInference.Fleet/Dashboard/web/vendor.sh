#!/usr/bin/env bash
# Re-vendors the dashboard's chart library from npm, exactly as package-lock.json pins it.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --ignore-scripts
cp node_modules/uplot/dist/uPlot.iife.min.js node_modules/uplot/dist/uPlot.min.css vendor/
cp node_modules/uplot/LICENSE vendor/uPlot.LICENSE
rm -rf node_modules
sha256sum vendor/*
