"""One slice store holding a store's slices and the same works' slices in other renderings.

For the experiment "train on every work in two timbres" (issue 10): the
default corpus is rendered as piano; `cclib corpus --instrument strings`
renders the same works (same seed, so the same selection and soundfonts) as
strings. This store holds both, by hard links (no copies): the home store's
rows as they are, each variant's rows with `-NAME` added to their piece and
slice names. Work groups are kept, so the protocols of cclib.protocols,
given this store as a recipe's training store, leave out every test work in
every rendering.

Usage (from the repository root):
    python experiments/make_union_store.py --home data/spectrograms \
        --variant strings=data/variants/spectrograms-strings --out data/variants/spectrograms-union
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pandas as pd

from cclib.errors import CclibError
from cclib.fileio import atomic_path, read_json, write_json
from cclib.store import MANIFEST_FIELDS, StoreError, read_manifest


def link(source: Path, target: Path) -> None:
    if not target.exists():
        os.link(source, target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--variant", action="append", required=True, metavar="NAME=STORE")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    params = read_json(args.home / "params.json", error=StoreError)
    (args.out / "slices").mkdir(parents=True, exist_ok=True)
    frames = [read_manifest(args.home)]
    for path in frames[0]["path"].unique():
        link(args.home / path, args.out / path)
    for text in args.variant:
        name, _, store = text.partition("=")
        store = Path(store)
        if read_json(store / "params.json", error=StoreError) != params:
            raise StoreError(f"{store}: other spectrogram settings than {args.home}")
        rows = read_manifest(store)
        renamed = {path: f"slices/{Path(path).stem}-{name}.npy" for path in rows["path"].unique()}
        for path, new in renamed.items():
            link(store / path, args.out / new)
        frames.append(rows.assign(path=rows["path"].map(renamed), piece=rows["piece"] + f"-{name}",
                                  slice_id=rows["slice_id"] + f"-{name}"))
    manifest = pd.concat(frames, ignore_index=True)
    with atomic_path(args.out / "manifest.csv") as tmp:
        manifest.to_csv(tmp, columns=list(MANIFEST_FIELDS), index=False)
    write_json(args.out / "params.json", params)
    read_manifest(args.out)  # checks every row
    print(f"{args.out}: {len(manifest)} slices of {manifest.piece.nunique()} pieces "
          f"({len(frames[0])} home)")


if __name__ == "__main__":
    try:
        main()
    except CclibError as error:  # a store that cannot be used: one line, as from cclib
        raise SystemExit(f"make_union_store: {error}") from None
