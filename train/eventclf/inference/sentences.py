"""Sentence splitting for scraped news, with character offsets into the original text.

blingfire does the splitting; we add what scraped dumps need: line breaks as boundaries (it reads
them as spaces), glued sentences (`tension.The`, `GMT).The`), and no break after a title such as `Mr.`
"""

from __future__ import annotations

import re

import blingfire

# A line break ends a sentence unless the next line continues it in lower case (hard-wrapped text).
_LINE_BREAK = re.compile(r"\s*\n\s*(?![a-z])")
# A sentence end glued to the next sentence's capitalised first word.
_GLUED = re.compile(r"(?<=[a-z0-9)\]\"'”’][.!?])(?=[A-Z][a-z])|(?<=[a-z0-9][.!?][)\]\"'”’])(?=[A-Z][a-z])")
_TITLES = r"(?:Mr|Mrs|Ms|Dr|Gen|Lt|Col|Maj|Capt|Sgt|Cpl|Adm|Gov|Sen|Rep|Prof|Rev|St|Brig|Cmdr|No)\."
_TITLE = re.compile(rf"(?:^|\s){_TITLES}$")
# blingfire never breaks before a title (`hurt. Gen. Diallo said`), so cut there ourselves.
_BEFORE_TITLE = re.compile(rf"(?<=[a-z0-9)\]][.!?])\s+(?={_TITLES}\s+[A-Z])")


def _pieces(text: str) -> list[tuple[int, int]]:
    """Spans between hard boundaries: line breaks and glued sentence ends."""
    cuts = sorted({0, len(text), *(m.start() for m in _LINE_BREAK.finditer(text)), *(m.end() for m in _LINE_BREAK.finditer(text))})
    spans = []
    for start, end in zip(cuts, cuts[1:]):
        piece = text[start:end]
        glued = [m.start() for m in _GLUED.finditer(piece) if not _TITLE.search(piece[: m.start()])]
        inner = [start] + sorted(start + cut for cut in glued + [m.end() for m in _BEFORE_TITLE.finditer(piece)]) + [end]
        spans.extend(zip(inner, inner[1:]))
    return spans


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each sentence; `text[start:end]` is the sentence, stripped."""
    spans: list[tuple[int, int]] = []
    for start, end in _pieces(text):
        piece = text[start:end]
        if not piece.strip():
            continue
        _, offsets = blingfire.text_to_sentences_and_offsets(piece)
        for s, e in offsets:
            s, e = start + s, start + e
            if spans and _TITLE.search(text[spans[-1][0] : spans[-1][1]]) and spans[-1][1] >= start:
                spans[-1] = (spans[-1][0], e)
            else:
                spans.append((s, e))
    return [_strip(text, s, e) for s, e in spans if text[s:e].strip()]


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
