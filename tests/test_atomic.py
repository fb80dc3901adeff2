import pytest

from eventclf.atomic import replacing, replacing_folder


def test_replacing_keeps_the_old_file_until_the_new_one_is_complete(tmp_path):
    target = tmp_path / "card.md"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with replacing(target) as partial:
            partial.write_text("half")
            raise RuntimeError("crash")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["card.md"]
    with replacing(target) as partial:
        partial.write_text("new")
    assert target.read_text() == "new" and [p.name for p in tmp_path.iterdir()] == ["card.md"]


def test_failed_build_leaves_nothing_and_keeps_the_previous_model(tmp_path):
    final = tmp_path / "run"
    with replacing_folder(final) as partial:
        (partial / "weights").write_text("v1")
    with pytest.raises(RuntimeError):
        with replacing_folder(final) as partial:
            (partial / "weights").write_text("half")
            raise RuntimeError("killed mid-way")
    assert (final / "weights").read_text() == "v1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
