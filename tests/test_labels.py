import pytest

from cclib.labels import Label, LabelsError, find_label, parse_study_name, read_labels


@pytest.mark.parametrize("name, composer", [
    ("Bach_1.wav", "Bach"), ("Rimsky-Korsakov_12.flac", "Rimsky-Korsakov"),
    ("Kats-Chernin_3.mp3", "Kats-Chernin"), ("sub/dir/Schumann-Clara_2.ogg", "Schumann-Clara"),
])
def test_study_names_give_the_composer(name, composer):
    assert parse_study_name(name) == Label(composer)


@pytest.mark.parametrize("name", ["track01.wav", "Bach.wav", "Bach_one.wav", "Bach_1_2.wav",
                                  "_1.wav"])
def test_other_names_give_none(name):
    assert parse_study_name(name) is None


def test_labels_csv_with_and_without_header(tmp_path):
    with_header = tmp_path / "a.csv"
    with_header.write_text("file,composer,period\ncd1/track01.wav,Bach,\ntrack02.wav,Glass,20thcentury\n")
    labels = read_labels(with_header)
    assert labels == {"cd1/track01.wav": Label("Bach"),
                      "track02.wav": Label("Glass", "20thcentury")}
    without = tmp_path / "b.csv"
    without.write_text("track03.wav,Chopin\n")
    assert read_labels(without) == {"track03.wav": Label("Chopin")}


def test_labels_are_found_by_relative_path_then_file_name(tmp_path):
    labels = {"cd1/track01.wav": Label("Bach"), "track02.wav": Label("Glass")}
    assert find_label(tmp_path / "cd1" / "track01.wav", tmp_path, labels) == Label("Bach")
    assert find_label(tmp_path / "cd2" / "track02.wav", tmp_path, labels) == Label("Glass")
    assert find_label(tmp_path / "track09.wav", tmp_path, labels) is None


def test_bad_labels_csv_names_the_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("file,composer\ntrack01.wav\n")
    with pytest.raises(LabelsError, match=r"bad\.csv:2"):
        read_labels(bad)
    with pytest.raises(LabelsError, match="missing.csv"):
        read_labels(tmp_path / "missing.csv")


def test_a_labels_period_or_composer_may_be_new_but_never_a_path(tmp_path):
    labels = tmp_path / "labels.csv"
    labels.write_text("file,composer,period\na.wav,Hildegard,medieval-chant\n")
    assert read_labels(labels)["a.wav"].period == "medieval-chant"
    for row in ("a.wav,Bach,../../somewhere", "a.wav,../Bach,baroque", "a.wav,Bach,/tmp"):
        labels.write_text(f"file,composer,period\n{row}\n")
        with pytest.raises(LabelsError, match=r"labels\.csv:2: (composer|period) .*not a plain"):
            read_labels(labels)
