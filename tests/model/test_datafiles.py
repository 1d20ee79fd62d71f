"""bceviz.model.datafiles: the real data set, round trips, accepted variants and refused files."""

from __future__ import annotations

import os
import pickle
import stat
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bceviz.model import datafiles as df
from bceviz.model.datafiles import DataFileError

BAD = Path(__file__).parent / "bad_files"


def _write(path: Path, content: str | bytes) -> Path:
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


# --------------------------------------------------------------------------- the error type


def test_error_text_names_file_line_and_column():
    err = DataFileError("/some/folder/file.csv", 7, 2, "'abc' is not a number")
    assert str(err) == "file.csv, line 7, column 2: 'abc' is not a number"
    assert (err.path, err.line, err.column, err.message) == (
        "/some/folder/file.csv", 7, 2, "'abc' is not a number",
    )
    assert isinstance(err, ValueError)
    assert str(DataFileError("a.csv", None, None, "file is empty")) == "a.csv: file is empty"
    assert str(DataFileError("a.csv", 3, None, "x")) == "a.csv, line 3: x"
    assert str(DataFileError("a.csv", None, 4, "x")) == "a.csv, column 4: x"
    copy = pickle.loads(pickle.dumps(err))  # crosses a worker-process boundary intact
    assert str(copy) == str(err) and copy.line == 7


# --------------------------------------------------------------------------- the real data


def test_breast_cancer_table_loads_all_columns():
    from bceviz.resources import resource_path

    table = df.read_table_csv(resource_path("data", "breast_cancer_wisconsin.csv"))
    assert table.data.shape == (569, 31)
    assert table.columns[0] == "mean_radius" and table.columns[-1] == "malignant"
    assert table.data.dtype == np.float64
    assert table.column("malignant").sum() == 212
    assert table.line_numbers[0] == 2 and table.line_numbers[-1] == 570


def test_breast_cancer_matches_sklearn_copy():
    import sklearn.datasets as sklearn_datasets
    ref = sklearn_datasets.load_breast_cancer()
    pts = df.load_breast_cancer(standardize=False)
    np.testing.assert_array_equal(pts.X, ref.data[:, [0, 1]])  # mean radius, mean texture
    # scikit-learn codes malignant as 0; the bundled file makes malignant the positive class.
    np.testing.assert_array_equal(pts.y, 1 - ref.target)


def test_load_breast_cancer_default_standardised_like_standard_scaler():
    import sklearn.preprocessing as preprocessing
    pts = df.load_breast_cancer()
    assert pts.n == 569 and pts.y.sum() == 212
    assert pts.feature_names == ("mean_radius", "mean_texture")
    assert pts.label_name == "malignant" and pts.standardized
    raw = df.load_breast_cancer(standardize=False)
    scaler = preprocessing.StandardScaler().fit(raw.X)
    np.testing.assert_allclose(pts.X, scaler.transform(raw.X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(pts.feature_mean, scaler.mean_, rtol=1e-14)
    np.testing.assert_allclose(pts.feature_std, scaler.scale_, rtol=1e-12)
    np.testing.assert_allclose(pts.to_original_units(pts.X), raw.X, rtol=1e-13)
    np.testing.assert_allclose(pts.to_model_units(raw.X), pts.X, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(pts.X.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(pts.X.std(axis=0), 1, rtol=1e-12)


@pytest.mark.parametrize(
    "f1,f2", [("worst_radius", "worst_concave_points"), ("mean_area", "mean_smoothness")]
)
def test_feature_choice_picks_the_named_columns(f1, f2):
    table = df.read_table_csv(df.resource_path("data", "breast_cancer_wisconsin.csv"))
    pts = df.load_breast_cancer(f1, f2, standardize=False)
    np.testing.assert_array_equal(pts.X[:, 0], table.column(f1))
    np.testing.assert_array_equal(pts.X[:, 1], table.column(f2))
    assert pts.feature_names == (f1, f2)
    np.testing.assert_array_equal(pts.feature_mean, [0, 0])
    np.testing.assert_array_equal(pts.feature_std, [1, 1])
    std = df.load_breast_cancer(f1, f2)
    expected = (table.data[:, [table.column_index(f1), table.column_index(f2)]])
    expected = (expected - expected.mean(axis=0)) / expected.std(axis=0)
    np.testing.assert_allclose(std.X, expected, rtol=1e-12, atol=1e-12)


def test_select_features_by_index_and_case_insensitive_name():
    table = df.read_table_csv(df.resource_path("data", "breast_cancer_wisconsin.csv"))
    a = df.select_features(table, 0, "MEAN_TEXTURE", "Malignant", standardize=False)
    b = df.load_breast_cancer(standardize=False)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)


def test_select_features_refuses_unknown_columns_and_bad_labels():
    table = df.read_table_csv(df.resource_path("data", "breast_cancer_wisconsin.csv"))
    with pytest.raises(DataFileError, match="no column named 'radius'; columns: mean_radius"):
        df.select_features(table, "radius", "mean_texture", "malignant")
    with pytest.raises(DataFileError, match="cannot also be a feature"):
        df.select_features(table, "malignant", "mean_texture", "malignant")
    with pytest.raises(DataFileError) as info:
        df.select_features(table, "mean_radius", "mean_texture", "mean_area")
    # First data row is line 2; mean_area is the 4th column.
    assert (info.value.line, info.value.column) == (2, 4)
    assert "label 1001 in column 'mean_area' is outside [0, 1]" in str(info.value)


def test_select_features_constant_feature_keeps_unit_scale(tmp_path):
    path = _write(tmp_path / "c.csv", "a,b,label\n3,1,0\n3,2,1\n3,4,1\n")
    pts = df.select_features(df.read_table_csv(path), "a", "b", "label")
    np.testing.assert_array_equal(pts.X[:, 0], 0.0)
    assert pts.feature_std[0] == 1.0 and pts.feature_mean[0] == 3.0


def test_select_features_single_class_flag(tmp_path):
    path = _write(tmp_path / "one.csv", "a,b,label\n1,2,0\n2,3,0.2\n")
    table = df.read_table_csv(path)
    assert df.select_features(table, "a", "b", "label").n == 2
    with pytest.raises(DataFileError, match=r"class 0 \(labels >= 0.5 count as 1\)"):
        df.select_features(table, "a", "b", "label", require_both_classes=True)


# --------------------------------------------------------------------------- round trip


# Any coordinate bceviz accepts (reading refuses |x| > COORDINATE_LIMIT, see test_reliability).
finite = st.floats(-df.COORDINATE_LIMIT, df.COORDINATE_LIMIT, allow_nan=False,
                   allow_infinity=False, width=64)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(finite, finite, st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0.0, 1.0))),
        min_size=1,
        max_size=40,
    )
)
def test_write_then_read_is_exact(tmp_path, rows):
    X = np.array([[a, b] for a, b, _ in rows])
    y = np.array([c for _, _, c in rows])
    path = tmp_path / "points.csv"
    df.write_points_csv(path, X, y, feature_names=("radius", "texture"), label_name="malignant")
    back = df.read_points_csv(path)
    np.testing.assert_array_equal(back.X, X)
    np.testing.assert_array_equal(back.y, y)
    assert back.feature_names == ("radius", "texture") and back.label_name == "malignant"
    # Bit-exact, including -0.0 and subnormals.
    assert back.X.tobytes() == X.tobytes()


def test_written_file_is_readable_text(tmp_path):
    path = tmp_path / "p.csv"
    df.write_points_csv(path, np.array([[0.1, -2.0], [1e-5, 3.0]]), np.array([1.0, 0.25]))
    assert path.read_text(encoding="utf-8") == "x1,x2,label\n0.1,-2.0,1\n1e-05,3.0,0.25\n"


def test_write_is_atomic_and_leaves_old_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "p.csv"
    df.write_points_csv(path, np.zeros((2, 2)), np.array([0.0, 1.0]))
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(df.os, "replace", broken_replace)
    with pytest.raises(DataFileError, match="cannot write: No space left on device"):
        df.write_points_csv(path, np.ones((3, 2)), np.array([0.0, 1.0, 1.0]))
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.csv"]  # no temp file left


def test_write_keeps_permissions_of_existing_file(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("old")
    os.chmod(path, 0o640)
    df.write_points_csv(path, np.zeros((1, 2)), np.array([1.0]))
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert df.read_points_csv(path).n == 1


@pytest.mark.parametrize(
    "X,y,kwargs,match",
    [
        (np.zeros((2, 3)), np.zeros(2), {}, r"shape \(n, 2\)"),
        (np.zeros((2, 2)), np.zeros(3), {}, "y must have shape"),
        (np.zeros((0, 2)), np.zeros(0), {}, "no points"),
        (np.array([[np.nan, 1.0]]), np.zeros(1), {}, "finite"),
        (np.zeros((1, 2)), np.array([2.0]), {}, r"\[0, 1\]"),
        (np.zeros((1, 2)), np.zeros(1), {"feature_names": ("a,b", "c")}, "header name"),
        (np.zeros((1, 2)), np.zeros(1), {"feature_names": ("1", "c")}, "header name"),
        (np.zeros((1, 2)), np.zeros(1), {"feature_names": ("a", "a")}, "must differ"),
        (np.zeros((1, 2)), np.zeros(1), {"label_name": ""}, "non-empty"),
    ],
)
def test_write_refuses_bad_arguments(tmp_path, X, y, kwargs, match):
    with pytest.raises(ValueError, match=match):
        df.write_points_csv(tmp_path / "p.csv", X, y, **kwargs)
    assert not (tmp_path / "p.csv").exists()


def test_write_into_missing_folder_or_onto_folder(tmp_path):
    with pytest.raises(DataFileError, match="does not exist"):
        df.write_points_csv(tmp_path / "nope" / "p.csv", np.zeros((1, 2)), np.zeros(1))
    with pytest.raises(DataFileError, match="is a folder"):
        df.write_points_csv(tmp_path, np.zeros((1, 2)), np.zeros(1))


# --------------------------------------------------------------------------- accepted variants

EXPECTED_X = np.array([[1.5, -2.0], [0.25, 3e-3]])
EXPECTED_Y = np.array([1.0, 0.0])


@pytest.mark.parametrize(
    "content",
    [
        "x1,x2,label\n1.5,-2.0,1\n0.25,3e-3,0\n",
        "x1;x2;label\n1.5;-2.0;1\n0.25;3e-3;0\n",
        "x1\tx2\tlabel\n1.5\t-2.0\t1\n0.25\t3e-3\t0\n",
        "1.5,-2.0,1\n0.25,3e-3,0\n",  # no header
        "1.5;-2.0;1\n0.25;0.003;0",  # no header, no final newline
        "x1 , x2 , label\n  1.5 , -2.0 , 1  \n\t0.25,  3e-3,0\n",  # surrounding whitespace
        "x1,x2,label\r\n1.5,-2.0,1\r\n0.25,3e-3,0\r\n",  # Windows line ends
        "x1,x2,label\r1.5,-2.0,1\r0.25,3e-3,0\r",  # old Mac line ends
        "\ufeffx1,x2,label\n1.5,-2.0,1\n0.25,3e-3,0\n",  # UTF-8 BOM
        "# points\n\n# columns: x1, x2, label\nx1,x2,label\n\n1.5,-2.0,1\n# half way\n0.25,3e-3,0\n\n",
        '"x1","x2","label"\n"1.5","-2.0","1"\n0.25,3e-3,0\n',  # quoted cells
        "x1,x2,label\n+1.5,-2,1.0\n.25,0.3E-2,0.0\n",  # other spellings of numbers
    ],
    ids=[
        "comma", "semicolon", "tab", "no-header", "no-final-newline", "whitespace", "crlf", "cr",
        "bom", "comments-blank-lines", "quoted", "number-spellings",
    ],
)
def test_points_variants_all_read_the_same(tmp_path, content):
    pts = df.read_points_csv(_write(tmp_path / "v.csv", content))
    np.testing.assert_array_equal(pts.X, EXPECTED_X)
    np.testing.assert_array_equal(pts.y, EXPECTED_Y)
    assert not pts.standardized


def test_decimal_commas_with_semicolons_are_reported_not_split(tmp_path):
    path = _write(tmp_path / "dc.csv", "a;b;label\n1,5;2,5;1\n")
    with pytest.raises(DataFileError) as info:
        df.read_points_csv(path)
    assert (info.value.line, info.value.column) == (2, 1)
    assert "'1,5' is not a number (decimal comma? write 1.5)" in str(info.value)


@pytest.mark.parametrize(
    "header,label_name,features",
    [
        ("x,y,label", "label", ("x", "y")),
        ("x1,x2,y", "y", ("x1", "x2")),
        ("label,x1,x2", "label", ("x1", "x2")),
        ("a,Target,b", "Target", ("a", "b")),
        ("a,b,c", "c", ("a", "b")),  # no known name: the last column
        ("radius,malignant,texture", "malignant", ("radius", "texture")),
    ],
)
def test_label_column_found_by_name_or_position(tmp_path, header, label_name, features):
    names = header.split(",")
    li = names.index(label_name)
    row = ["5", "6", "7"]
    row[li] = "1"
    path = _write(tmp_path / "l.csv", header + "\n" + ",".join(row) + "\n")
    pts = df.read_points_csv(path)
    assert pts.label_name == label_name and pts.feature_names == features
    assert pts.y.tolist() == [1.0]
    assert pts.X.tolist() == [[float(v) for j, v in enumerate(row) if j != li]]


def test_soft_labels_are_allowed(tmp_path):
    pts = df.read_points_csv(_write(tmp_path / "s.csv", "1,2,0.3\n3,4,0.9\n5,6,0\n"))
    assert pts.y.tolist() == [0.3, 0.9, 0.0]
    assert pts.feature_names == ("x1", "x2") and pts.label_name == "label"


def test_table_without_header_names_columns(tmp_path):
    table = df.read_table_csv(_write(tmp_path / "t.csv", "1;2;3;4\n5;6;7;8\n"))
    assert table.columns == ["column1", "column2", "column3", "column4"]
    assert not table.has_header and table.delimiter == ";"
    np.testing.assert_array_equal(table.data, [[1, 2, 3, 4], [5, 6, 7, 8]])
    single = df.read_table_csv(_write(tmp_path / "one.csv", "value\n1\n2.5\n"))
    assert single.columns == ["value"] and single.data.shape == (2, 1)


@pytest.mark.parametrize(
    "content,p,y",
    [
        ("0.2,1\n0.9,0\n", [0.2, 0.9], [1, 0]),
        ("p,y\n0.2,1\n0.9,0.5\n", [0.2, 0.9], [1, 0.5]),
        ("label;probability\n1;0.2\n0;0.9\n", [0.2, 0.9], [1, 0]),
        ("y\tscore\n1\t0.2\n0\t0.9\n", [0.2, 0.9], [1, 0]),
    ],
)
def test_pairs_read(tmp_path, content, p, y):
    got_p, got_y = df.read_pairs_csv(_write(tmp_path / "pairs.csv", content))
    assert got_p.tolist() == p and got_y.tolist() == y
    assert got_p.dtype == np.float64 and got_y.dtype == np.float64


def test_pairs_default_limit_suits_the_samples_panel(tmp_path):
    path = _write(tmp_path / "many.csv", "0.5,1\n" * 1001)
    with pytest.raises(DataFileError, match="more than 1,000 data rows"):
        df.read_pairs_csv(path)
    assert df.read_pairs_csv(path, max_rows=2000)[0].size == 1001


# --------------------------------------------------------------------------- the malformed corpus

#: file -> (reader, keyword arguments, line, column, fragments of the message)
CORPUS = {
    "not_utf8.csv": ("points", {}, 3, None, ["not UTF-8", "0xE9", "save the file as UTF-8"]),
    "binary.csv": ("points", {}, 3, None, ["binary file", "NUL"]),
    "utf16.csv": ("points", {}, None, None, ["UTF-16", "save it as UTF-8"]),
    "empty.csv": ("points", {}, None, None, ["file is empty"]),
    "whitespace_only.csv": ("points", {}, None, None, ["file is empty"]),
    "comments_only.csv": ("points", {}, None, None, ["no data rows", "only comments"]),
    "header_only.csv": ("points", {}, None, None, ["header (line 1) but no data rows"]),
    "header_then_comments.csv": ("table", {}, None, None, ["header (line 1) but no data rows"]),
    "too_few_columns.csv": (
        "points", {}, 1, None, ["found 2 comma-separated columns; expected 3"],
    ),
    "one_column.csv": ("points", {}, 1, None, ["found 1 column", "no comma, semicolon or tab"]),
    "space_separated.csv": ("points", {}, 1, None, ["no comma, semicolon or tab"]),
    "too_many_columns.csv": (
        "points", {}, 1, None, ["found 4 comma-separated columns; expected 3", "wider table"],
    ),
    "ragged_short_row.csv": ("points", {}, 3, 3, ["row has 2 fields; expected 3 like line 1"]),
    "ragged_long_row.csv": ("table", {}, 2, 4, ["row has 4 fields; expected 3 like line 1"]),
    "text_in_number.csv": ("points", {}, 7, 2, ["'abc' is not a number"]),
    "empty_cell.csv": ("points", {}, 2, 2, ["empty cell; expected a number"]),
    "nan_cell.csv": ("points", {}, 3, 2, ["'NaN': NaN is not allowed"]),
    "inf_cell.csv": ("table", {}, 3, 1, ["'-inf' is not a finite number"]),
    "overflow_number.csv": ("points", {}, 2, 1, ["'1e400' is not a finite number"]),
    "label_above_one.csv": ("points", {}, 4, 3, ["label 2 is outside [0, 1]"]),
    "label_negative.csv": ("points", {}, 2, 3, ["label -1 is outside [0, 1]"]),
    "text_label.csv": ("points", {}, 2, 3, ["'M' is not a number", "label is a number in [0, 1]"]),
    "decimal_comma_semicolon.csv": (
        "points", {}, 2, 1, ["'1,5' is not a number", "decimal comma? write 1.5"],
    ),
    "decimal_comma_comma.csv": (
        "points", {}, 1, None, ["found 5 comma-separated columns", "decimal commas"],
    ),
    "duplicate_header.csv": ("points", {}, 1, 2, ["duplicate column name 'x' (also column 1)"]),
    "underscore_number.csv": ("points", {}, 2, 1, ["'1_000' is not a number"]),
    "mixed_first_row.csv": ("points", {}, 1, 2, ["'abc' is not a number"]),
    "single_class.csv": (
        "points", {"require_both_classes": True}, None, 3,
        ["all 3 labels are class 1", "both classes"],
    ),
    "too_many_rows.csv": (
        "points", {"max_rows": 10}, 12, None, ["more than 10 data rows (the limit)", "has 12"],
    ),
    "pairs_probability_above_one.csv": (
        "pairs", {}, 3, 1, ["probability 1.3 is outside [0, 1]"],
    ),
    "pairs_three_columns.csv": ("pairs", {}, 1, None, ["found 3", "expected 2"]),
}

READERS = {"points": df.read_points_csv, "table": df.read_table_csv, "pairs": df.read_pairs_csv}


def test_every_corpus_file_is_listed():
    on_disk = {p.name for p in BAD.glob("*.csv")}
    assert on_disk == set(CORPUS)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_malformed_file_is_refused_with_location(name):
    reader, kwargs, line, column, fragments = CORPUS[name]
    path = BAD / name
    calls = []
    with pytest.raises(DataFileError) as info:
        READERS[reader](path, progress=calls.append, **kwargs)
    err = info.value
    assert (err.line, err.column) == (line, column), str(err)
    assert err.path == str(path)
    text = str(err)
    prefix = name + (f", line {line}" if line else "") + (f", column {column}" if column else "")
    assert text.startswith(prefix + ": "), text
    for fragment in fragments:
        assert fragment in text
    assert 1.0 not in calls  # progress never reports a finished load


@pytest.mark.parametrize("name", ["single_class.csv", "too_many_rows.csv"])
def test_flagged_problems_load_without_the_flag(name):
    assert df.read_points_csv(BAD / name).n > 0


def test_brief_example_message():
    with pytest.raises(DataFileError) as info:
        df.read_points_csv(BAD / "text_in_number.csv")
    assert str(info.value) == "text_in_number.csv, line 7, column 2: 'abc' is not a number"


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(DataFileError) as info:
        df.read_points_csv(tmp_path / "nope.csv")
    assert str(info.value) == "nope.csv: file not found"
    with pytest.raises(DataFileError, match="is a folder, not a file"):
        df.read_table_csv(tmp_path)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads anything")
def test_unreadable_file(tmp_path):
    path = _write(tmp_path / "secret.csv", "1,2,0\n")
    os.chmod(path, 0)
    try:
        with pytest.raises(DataFileError, match="permission denied"):
            df.read_points_csv(path)
    finally:
        os.chmod(path, 0o600)


def test_file_over_size_limit_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.csv"
    with open(path, "wb") as handle:
        handle.truncate(df.DEFAULT_MAX_BYTES + 1)  # sparse: no disk used
    with pytest.raises(DataFileError) as info:
        df.read_points_csv(path)
    assert str(info.value) == "huge.csv: file is 50.0 MB; the limit is 50 MB"
    small = _write(tmp_path / "small.csv", "1,2,0\n" * 100)
    with pytest.raises(DataFileError, match="the limit is 500 bytes"):
        df.read_points_csv(small, max_bytes=500)


def test_over_row_limit_is_refused_with_the_limit(tmp_path):
    path = _write(tmp_path / "rows.csv", "x1,x2,label\n" + "0.5,0.5,1\n" * 200_001)
    with pytest.raises(DataFileError) as info:
        df.read_points_csv(path)
    assert "more than 200,000 data rows (the limit); the file has 200,001" in str(info.value)
    assert info.value.line == 200_002  # header + 200,000 rows, then the first one too many


def test_first_problem_in_file_order_is_reported(tmp_path):
    # A non-finite cell before a text cell, and a bad label before a ragged row.
    path = _write(tmp_path / "a.csv", "1,2,0\n1,inf,0\n1,2,0\nx,2,0\n")
    with pytest.raises(DataFileError) as info:
        df.read_points_csv(path)
    assert (info.value.line, info.value.column) == (2, 2)
    path = _write(tmp_path / "b.csv", "1,2,0\n1,2,3\n1,2\n")
    with pytest.raises(DataFileError) as info:
        df.read_points_csv(path)
    assert (info.value.line, info.value.column) == (2, 3)


def test_error_deep_in_a_large_file_has_the_right_line(tmp_path):
    rows = [f"{i},{i * 0.5},{i % 2}" for i in range(20_000)]
    rows[17_345] = "17345,oops,1"
    text = "# generated\nx1,x2,label\n" + "\n".join(rows[:10_000]) + "\n# mid\n\n"
    text += "\n".join(rows[10_000:]) + "\n"
    path = _write(tmp_path / "deep.csv", text)
    with pytest.raises(DataFileError) as info:
        df.read_points_csv(path)
    # 2 lines before the rows, then 10,000 rows, 2 more lines, then the rest.
    assert (info.value.line, info.value.column) == (17_345 + 1 + 2 + 2, 2)
    assert "'oops' is not a number" in str(info.value)


# --------------------------------------------------------------------------- large files, progress


def test_large_file_loads_with_progress(tmp_path):
    rng = np.random.default_rng(3)
    n = 150_000
    X = rng.normal(size=(n, 2)) * [1e-3, 1e4]
    y = (rng.random(n) < 0.3).astype(float)
    path = tmp_path / "big.csv"
    df.write_points_csv(path, X, y)
    calls: list[float] = []
    pts = df.read_points_csv(path, progress=calls.append)
    np.testing.assert_array_equal(pts.X, X)
    np.testing.assert_array_equal(pts.y, y)
    assert calls[-1] == 1.0
    assert all(b > a for a, b in zip(calls, calls[1:]))
    assert 15 <= len(calls) <= 25  # about every 5 %
    assert max(np.diff([0.0, *calls])) <= 0.051


def test_small_file_reports_progress_once(tmp_path):
    calls: list[float] = []
    df.read_points_csv(_write(tmp_path / "s.csv", "1,2,0\n3,4,1\n"), progress=calls.append)
    assert calls == [1.0]


def test_progress_returning_false_cancels(tmp_path):
    path = tmp_path / "big.csv"
    df.write_points_csv(path, np.zeros((30_000, 2)), np.zeros(30_000))
    calls: list[float] = []

    def cancel_at_half(fraction: float) -> bool:
        calls.append(fraction)
        return fraction < 0.5

    with pytest.raises(DataFileError, match="loading cancelled"):
        df.read_points_csv(path, progress=cancel_at_half)
    assert calls[-1] >= 0.5 and 1.0 not in calls


def test_limits_must_be_positive_integers(tmp_path):
    path = _write(tmp_path / "p.csv", "1,2,0\n")
    with pytest.raises(ValueError, match="max_rows"):
        df.read_points_csv(path, max_rows=0)
    with pytest.raises(ValueError, match="max_bytes"):
        df.read_table_csv(path, max_bytes=-1)


def test_module_does_not_import_qt():
    import ast

    tree = ast.parse(Path(df.__file__).read_text(encoding="utf-8"))
    names = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }
    assert not names & {"PySide6", "pyqtgraph", "shiboken6", "PyQt5", "PyQt6"}
