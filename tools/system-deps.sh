#!/usr/bin/env bash
# Make sure FluidSynth and a General MIDI soundfont are installed.
# Installs them with apt-get when missing and allowed (root or sudo);
# otherwise stops with one line naming the install command for each platform.
set -euo pipefail

have_soundfont() {
  [ -n "${CCLIB_SOUNDFONT:-}" ] && [ -f "$CCLIB_SOUNDFONT" ] && return 0
  for f in /usr/share/sounds/sf2/TimGM6mb.sf2 /usr/share/sounds/sf2/FluidR3_GM.sf2 \
           /usr/share/sounds/sf2/default-GM.sf2 /usr/share/soundfonts/default.sf2 \
           /opt/homebrew/share/soundfonts/default.sf2 /usr/local/share/soundfonts/default.sf2 \
           "${CONDA_PREFIX:-/nonexistent}/share/soundfonts/default.sf2"; do
    [ -f "$f" ] && return 0
  done
  return 1
}

if command -v fluidsynth >/dev/null 2>&1 && have_soundfont; then
  exit 0
fi

if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo"; else sudo="none"; fi
  if [ "$sudo" != "none" ]; then
    echo "Installing FluidSynth and the TimGM6mb soundfont with apt-get..."
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      fluidsynth timgm6mb-soundfont >/dev/null
    exit 0
  fi
fi

echo "FluidSynth and a GM soundfont are needed: Debian/Ubuntu: sudo apt-get install fluidsynth timgm6mb-soundfont; macOS: brew install fluid-synth (then set CCLIB_SOUNDFONT=path/to/a/GM.sf2); conda: conda install -c conda-forge fluidsynth (then set CCLIB_SOUNDFONT)" >&2
exit 1
