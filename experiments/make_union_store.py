"""One slice store holding a store's slices and the same works' slices in other renderings.

For the experiment "train on every work in two timbres" (issue 10): the
default corpus is rendered as piano; `cclib corpus --instrument strings`
renders the same works (same seed, so the same selection and soundfonts) as
strings. This store holds both, by hard links (no copies): the home store's
rows as they are, each variant's rows with `-NAME` added to their piece and
slice names. Work groups are kept, so the protocols of cclib.protocols,
given this store as a recipe's training store, leave out every test work in
every rendering.

Usage:
    python bench/make_union_store.py --home data/spectrograms \
        --variant strings=data/variants/spectrograms-strings --out data/variants/spectrograms-union
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pandas as pd

from cclib.store import MANIFEST_FIELDS, read_manifest


def link(source: Path, target: Path) -> None:
    if not target.exists():
        os.link(source, target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--variant", action="append", required=True, metavar="NAME=STORE")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    params = json.loads((args.home / "params.json").read_text())
    (args.out / "slices").mkdir(parents=True, exist_ok=True)
    frames = [read_manifest(args.home)]
    for path in frames[0]["path"].unique():
        link(args.home / path, args.out / path)
    for text in args.variant:
        name, _, store = text.partition("=")
        store = Path(store)
        if json.loads((store / "params.json").read_text()) != params:
            raise SystemExit(f"{store}: other spectrogram settings than {args.home}")
        rows = read_manifest(store)
        renamed = {path: f"slices/{Path(path).stem}-{name}.npy" for path in rows["path"].unique()}
        for path, new in renamed.items():
            link(store / path, args.out / new)
        frames.append(rows.assign(path=rows["path"].map(renamed), piece=rows["piece"] + f"-{name}",
                                  slice_id=rows["slice_id"] + f"-{name}"))
    manifest = pd.concat(frames, ignore_index=True)
    manifest.to_csv(args.out / "manifest.csv", columns=list(MANIFEST_FIELDS), index=False)
    (args.out / "params.json").write_text(json.dumps(params, indent=2) + "\n")
    read_manifest(args.out)  # checks every row
    print(f"{args.out}: {len(manifest)} slices of {manifest.piece.nunique()} pieces "
          f"({len(frames[0])} home)")


if __name__ == "__main__":
    main()
