#!/bin/sh
# `npm start`: the paper's experiment and the theory run, each checked, in one report.
#  1. paper-fig1: the paper's Figure 1 setting, 30,000 GD steps (several of the theorems'
#     hypotheses do not hold there, and the report says which);
#  2. theory-strict: gradient flow at sizes where every hypothesis holds;
#  3. coflow check on both (claims.json, claims.md in each run directory);
#  4. coflow report: runs/report.html over both runs, linking to each run's own page.
# Runs go to ./runs (relative to where this is started; npm starts it at the package root).
# An earlier npm start's runs are replaced (--force replaces only a run's own files).
set -e
coflow="node $(dirname "$0")/../dist/src/cli/main.js"
$coflow run --preset paper-fig1 --out runs/paper-fig1 --force
$coflow run --preset theory-strict --out runs/theory-strict --force
$coflow check runs/paper-fig1 > /dev/null
$coflow check runs/theory-strict > /dev/null
echo "checked the claims: runs/paper-fig1/claims.md, runs/theory-strict/claims.md"
$coflow report runs/paper-fig1 runs/theory-strict --out runs/report.html
