#!/usr/bin/env bash
# Regenerates docs/parameters.md from the parameter registry.
# usage: docs/gen-parameters.sh path/to/bonesim
set -euo pipefail
bin=$1
doc="$(dirname "$0")/parameters.md"
{
  cat <<'HEAD'
# bonesim parameters

Every parameter of the model, generated from the one parameter registry by
`docs/gen-parameters.sh build/bonesim` (the test `docs_parameters` fails when
this page and the registry disagree). Set any of them in a scenario file
(`[section]` + `key = value`) or on the command line with
`--set section.key=value`; `bonesim params SCENARIO` shows the values a
scenario resolves to.

Source tags: M✓ measured and checked against the paper, M~
measured but recalled, Mod✓ a published model's value, D derived, A assumed.
"Calibrated to Bn" marks a value tuned so the model reproduces behaviour Bn of
docs/behaviours.md; docs/calibration.md records how.

<!-- generated: bonesim params --markdown -->
HEAD
  "$bin" params --markdown
} >"$doc.tmp"
mv "$doc.tmp" "$doc"
