import json

import numpy as np
import pytest

from siamdup.trajectory import TrajectoryFormatError, parse_trajectory, read_trajectory
from siamdup.trajectory.features import FeatureConfig, features, monotonic_time

QUIRKY = (
    "5\r\n"
    "2933 5678 31275775 0 1550 710 439\r\n"
    "2933 5678 31275785 1 1480 770 420\r\n"
    "3001 5851 31275795 3 1350 830 433\r\n"
    "3010 5860 31275787 5 1350 830 0\r\n"
    "3020 5870 31275805 2 1350 830 410\r\n"
)


def test_svc2004_quirks(tmp_path):
    path = tmp_path / "U25S1.TXT"
    path.write_bytes(QUIRKY.encode())
    t = read_trajectory(path)
    assert t.columns == ("x", "y", "t", "pen_down", "azimuth", "altitude", "pressure")
    assert len(t) == 5
    assert t.column("pen_down").tolist() == [0, 1, 1, 1, 1]  # BUTTON 2-5 are pen-down
    assert t.column("t").tolist() == [31275775, 31275785, 31275795, 31275787, 31275805]  # kept as written
    assert t.column("pressure")[3] == 0
    # features see a clock that never steps back, and give finite numbers
    assert np.all(np.diff(monotonic_time(t.column("t"))) >= 0)
    assert np.isfinite(features(t, FeatureConfig(length=16))).all()


def test_task1_columns_only():
    t = parse_trajectory("2\n1 2 0 1\n3 4 10 0\n", ".TXT", "task1.txt")
    assert t.columns == ("x", "y", "t", "pen_down") and not t.has("pressure")
    assert features(t, FeatureConfig(length=8)).shape == (8, FeatureConfig().width)


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("3\r\n1 2 3 1 1 1 1\r\n1 2 3 1 1 1 1\r\n", 1, "header says 3"),
        ("2\n1 2 3 1 1 1 1\n1 2 x 1 1 1 1\n", 3, "not a number"),
        ("2\n1 2 3 1 1 1 1\n1 2 3 1 1 1\n", 3, "expected 7"),
        ("abc\n", 1, "number of points"),
    ],
)
def test_bad_svc2004_names_file_and_line(tmp_path, text, line, words):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(TrajectoryFormatError) as info:
        read_trajectory(path)
    assert info.value.line == line
    assert str(path) in str(info.value) and f"line {line}" in str(info.value) and words in str(info.value)


def test_json_objects_and_rows(tmp_path):
    points = [
        {"x": 0, "y": 0, "t": 0, "pressure": 0.5},
        {"x": 1, "y": 2, "t": 10, "pressure": 0.6, "pen_down": 0},
    ]
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"points": points}))
    t = read_trajectory(path)
    assert t.columns == ("x", "y", "t", "pen_down", "pressure")
    assert t.column("pen_down").tolist() == [1, 0]  # absent: pen down
    assert t.column("pressure").tolist() == [0.5, 0.6]
    rows = parse_trajectory(json.dumps([[0, 0, 0], [1, 1, 5], [2, 1, 9]]), ".json")
    assert rows.columns == ("x", "y", "t", "pen_down") and rows.column("x").tolist() == [0, 1, 2]


def test_csv_header_order_and_extra_columns(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("t,y,x,pressure,note\n0,5,1,0.2,7\n10,6,2,0.3,8\n")
    t = read_trajectory(path)
    assert t.column("x").tolist() == [1, 2] and t.column("y").tolist() == [5, 6]
    assert t.column("pressure").tolist() == [0.2, 0.3]


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("a.json", "{not json", "not valid JSON"),
        ("b.json", '{"points": [{"x": 1, "y": 2}]}', "needs x, y and t"),
        ("c.csv", "x,y\n1,2\n", "lacks column(s) t"),
        ("d.csv", "x,y,t\n1,2,3\n1,2,oops\n", "line 3"),
        ("e.png", "x", "unknown trajectory format"),
        ("f.json", '{"points": [{"x": 1, "y": 2, "t": 0}]}', "at least 2 points"),
    ],
)
def test_bad_json_csv(tmp_path, name, content, words):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(TrajectoryFormatError, match=str(path).replace(".", r"\.")) as info:
        read_trajectory(path)
    assert words in str(info.value)
    assert isinstance(info.value, ValueError)
