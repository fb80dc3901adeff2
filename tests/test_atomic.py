import pytest

from eventclf.atomic import replacing


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
