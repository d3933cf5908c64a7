"""The Polish Scores import: Humdrum **kern files of a tiny repository made here, end to end."""

import pytest
from music21 import converter

from cclib.archives import SourceTree, read_archives
from cclib.fileio import read_csv
from cclib.polish import composer_names, eligible, import_polish, list_files

SONG = """!!!COM: Stefani, Józef
!!!CDT: 1800/04/16-1876/03/19
!!!OTL: Piosenka
!!!OPR: Pieśni
!!!YEM: License CC-BY-4.0 (https://creativecommons.org/licenses/by/4.0)
!!!ENC: A. Tester
**kern	**kern
*Ipiano	*Ivox
*clefF4	*clefG2
*M4/4	*M4/4
=1	=1
1C	4c
.	4d
.	4e
.	4f
=2	=2
1G	1g
==	==
*-	*-
"""


def write_kern(root, name, text):
    folder = root / "pl-test" / "kern"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.krn").write_text(text, encoding="utf-8")


@pytest.fixture
def repository(tmp_path):
    root = tmp_path / "humdrum-polish-scores"
    write_kern(root, "pl-test--song", SONG)
    write_kern(root, "pl-test--broken", SONG.replace("1C\t4c", "1C\t4c\t4e\tzz"))
    write_kern(root, "pl-test--anonymous", SONG.replace("Stefani, Józef", "Anonim"))
    write_kern(root, "pl-test--undated", SONG.replace("1800/04/16-1876/03/19", ""))
    return root


def test_files_are_read_with_their_records_and_left_out_for_what_they_are(repository):
    files = {kern.path.rsplit("/", 1)[1]: kern for kern in list_files(SourceTree(repository))}
    song = files["pl-test--song.krn"]
    assert song.codes == ("piano", "vox") and song.ensemble == "voice and piano"
    assert (song.full_name, song.dates, song.title) == ("Józef Stefani", ("1800", "1876"),
                                                        "Pieśni: Piosenka")
    assert eligible(files["pl-test--anonymous.krn"]) == "anonymous"
    assert eligible(files["pl-test--undated.krn"]) == "composer's dates unknown"
    assert set(composer_names(files.values()).values()) == {"Stefani"}


def test_a_file_is_converted_end_to_end_and_a_broken_one_named_and_skipped(repository, tmp_path):
    out = tmp_path / "scores" / "polish"
    counts = import_polish(repository, out, progress=False)
    assert counts == {"files": 4, "eligible": 2, "selected": 2, "converted": 1, "skipped": 1}
    (row,) = read_csv(out / "metadata.csv")
    assert (row["composer"], row["ensemble"], row["licence"]) == ("Stefani", "voice and piano",
                                                                  "CC-BY-4.0")
    assert "Chopin Institute" in row["credit"] and "A. Tester" in row["credit"]
    (skipped,) = read_csv(out / "skipped.csv")
    assert skipped["piece"] == "pl-test/kern/pl-test--broken.krn"
    score = converter.parse(read_archives(out)[row["file"]], format="midi")
    voice, piano = score.parts
    assert [n.nameWithOctave for n in voice.recurse().notes] == ["C4", "D4", "E4", "F4", "G4"]
    programs = [{i.midiProgram for i in part.recurse().getElementsByClass("Instrument")}
                for part in (voice, piano)]
    assert programs == [{53}, {0}]  # the voice sings (music21 alone gives it the piano's 0)
    again = import_polish(repository, tmp_path / "again", progress=False)
    assert again == counts
    assert (out / "midi-1.tar.xz").read_bytes() == (tmp_path / "again" / "midi-1.tar.xz").read_bytes()
