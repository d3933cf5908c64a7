#!/usr/bin/env bash
# Make sure FluidSynth and the training soundfonts are installed: TimGM6mb
# (timgm6mb-soundfont) and MuseScore_General_Lite (musescore-general-soundfont-small).
# Installs them with apt-get when missing and allowed (root or sudo);
# otherwise stops with one line naming the install command for each platform.
# With one training soundfont only (macOS, conda), the corpus is rendered with it.
# FluidR3_GM (fluid-soundfont-gm) is the evaluation soundfont: never used for
# training; `make generalization` installs it to test on.
# Also installs Debian's Chromium for the browser test, and LilyPond for the tests of the
# Mutopia importer, where apt-get can; without them those tests are skipped, so a
# failure here never stops anything. (Users render the committed archives: they
# need no LilyPond.)
set -euo pipefail

if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo"; else sudo="none"; fi
else
  sudo="none"
fi

if [ ! -x /usr/bin/chromium ] && [ "$sudo" != "none" ]; then
  echo "Installing Chromium (for the browser test) with apt-get..."
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
      --no-install-recommends chromium >/dev/null; } \
    || echo "note: Chromium could not be installed; the browser test will be skipped" >&2
fi

if ! command -v lilypond >/dev/null 2>&1 && [ "$sudo" != "none" ]; then
  echo "Installing LilyPond (for the Mutopia importer's tests) with apt-get..."
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
      --no-install-recommends lilypond >/dev/null; } \
    || echo "note: LilyPond could not be installed; the Mutopia importer's tests will be skipped" >&2
fi

have_soundfont() {
  [ -n "${CCLIB_SOUNDFONT:-}" ] && return 0
  for f in /usr/share/sounds/sf2/TimGM6mb.sf2 /usr/share/sounds/sf3/MuseScore_General_Lite.sf3 \
           /opt/homebrew/share/soundfonts/default.sf2 /usr/local/share/soundfonts/default.sf2 \
           "${CONDA_PREFIX:-/nonexistent}/share/soundfonts/TimGM6mb.sf2"; do
    [ -f "$f" ] && return 0
  done
  return 1
}

if [ "${1:-}" = "--evaluation" ]; then
  [ -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ] && exit 0
  [ "$sudo" = "none" ] && { echo "the evaluation soundfont is missing: apt-get install fluid-soundfont-gm" >&2; exit 1; }
  echo "Installing the evaluation soundfont FluidR3_GM with apt-get..."
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
      --no-install-recommends fluid-soundfont-gm >/dev/null; }
  exit $?
fi

missing=()
command -v fluidsynth >/dev/null 2>&1 || missing+=(fluidsynth)
[ -f /usr/share/sounds/sf2/TimGM6mb.sf2 ] || missing+=(timgm6mb-soundfont)
[ -f /usr/share/sounds/sf3/MuseScore_General_Lite.sf3 ] || missing+=(musescore-general-soundfont-small)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$sudo" != "none" ]; then
  echo "Installing ${missing[*]} with apt-get..."
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
  exit 0
fi

if command -v fluidsynth >/dev/null 2>&1 && have_soundfont; then
  echo "note: rendering the corpus with one soundfont only (MuseScore_General_Lite or TimGM6mb missing)" >&2
  exit 0
fi

echo "FluidSynth and a GM soundfont are needed: Debian/Ubuntu: sudo apt-get install fluidsynth timgm6mb-soundfont; macOS: brew install fluid-synth (then set CCLIB_SOUNDFONT=path/to/a/GM.sf2); conda: conda install -c conda-forge fluidsynth (then set CCLIB_SOUNDFONT)" >&2
exit 1
