import pytest

from eventclf.inference.sentences import split_sentences


def sentences(text: str) -> list[str]:
    spans = split_sentences(text)
    for start, end in spans:
        assert 0 <= start < end <= len(text)
    return [text[start:end] for start, end in spans]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Gunmen attacked a bus. Two people died.", ["Gunmen attacked a bus.", "Two people died."]),
        ("Clashes raised tension.The army said it fired back.", ["Clashes raised tension.", "The army said it fired back."]),
        ("Updated 14:02 (GMT).The ministry denied it.", ["Updated 14:02 (GMT).", "The ministry denied it."]),
        ('He said "we fired."The police disagreed.', ['He said "we fired."', "The police disagreed."]),
        ("Mr. Okafor said two were hurt. Gen. Diallo denied it.", ["Mr. Okafor said two were hurt.", "Gen. Diallo denied it."]),
        ("U.S. forces struck a depot. The Pentagon said so.", ["U.S. forces struck a depot.", "The Pentagon said so."]),
        ("Army Says Rebels Routed\nThe army said rebels fled.", ["Army Says Rebels Routed", "The army said rebels fled."]),
        ("A line that is hard-wrapped and\ncontinues here. Next.", ["A line that is hard-wrapped and\ncontinues here.", "Next."]),
        ("First paragraph ends\n\n\n   Second   starts  here.  ", ["First paragraph ends", "Second   starts  here."]),
        ("Les rebelles ont attaqué Goma.Un café a brûlé à Kigali.", ["Les rebelles ont attaqué Goma.", "Un café a brûlé à Kigali."]),
        ("   \n\t ", []),
    ],
)
def test_splits_scraped_text_with_exact_offsets(text, expected):
    assert sentences(text) == expected


def test_very_long_unpunctuated_text_stays_one_span_with_exact_offsets():
    text = "  " + " ".join(["fighting continued"] * 3000) + "  "
    (span,) = split_sentences(text)
    assert text[span[0] : span[1]] == text.strip()
