"""Language and sentiment of a message: the two signals routing takes as inputs.

Both models load on first use, never at import, so the GUI start-up path stays lean:
``py3langid`` (and numpy) takes about a second, vaderSentiment's lexicon a few milliseconds.
The full language model is loaded once per process under a lock; each
:class:`LanguageDetector` keeps its own copy restricted to the organization's languages.

Sentiment is English only: vaderSentiment scores "C'est nul" 0, which would be a false
"neutral". Every other language, and text whose language is unknown, gets ``None``.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Iterable
from typing import Any

MIN_LETTERS = 4  # fewer letters than this (after links and mentions are removed): no language
MIN_CONFIDENCE = 0.5  # a normalized probability below this: undecidable
_NOISE = re.compile(r"https?://\S+|www\.\S+|[@#]\w+")

_lock = threading.Lock()
_full_identifier: Any = None  # py3langid's LanguageIdentifier over all languages, built lazily
_analyzer: Any = None  # vaderSentiment's SentimentIntensityAnalyzer, built lazily


def _identifier() -> Any:
    global _full_identifier
    with _lock:
        if _full_identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            _full_identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return _full_identifier


def _sentiment_analyzer() -> Any:
    global _analyzer
    with _lock:
        if _analyzer is None:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            _analyzer = SentimentIntensityAnalyzer()
        return _analyzer


class LanguageDetector:
    """Detects the language of short social text among the organization's languages.

    Nothing is loaded until the first :meth:`detect`; loading is guarded by a lock, and
    classifying only reads the model, so one detector can serve several threads.
    """

    def __init__(self, languages: Iterable[str]) -> None:
        self.languages = tuple(sorted({lang.strip().lower() for lang in languages if lang}))
        if not self.languages:
            raise ValueError("a language detector needs at least one language")
        self._restricted: Any = None
        self._own_lock = threading.Lock()

    def _model(self) -> Any:
        with self._own_lock:
            if self._restricted is None:
                full = _identifier()
                unknown = set(self.languages) - set(full.labels)
                if unknown:
                    raise ValueError(f"py3langid does not know {', '.join(sorted(unknown))}")
                model = copy.copy(full)  # shares the arrays; restriction makes its own
                model.set_languages(self.languages)
                self._restricted = model
            return self._restricted

    def detect(self, text: str) -> str | None:
        """ISO 639-1 code, or ``None`` when the text is too short or undecidable."""
        clean = _NOISE.sub(" ", text)
        if not _has_letters(clean, MIN_LETTERS):
            return None
        lang, confidence = self._model().classify(clean)
        if confidence < MIN_CONFIDENCE:
            return None
        return str(lang)


def _has_letters(text: str, wanted: int) -> bool:
    """Whether ``text`` holds at least ``wanted`` letters (stops looking once it does)."""
    for c in text:
        if c.isalpha():
            wanted -= 1
            if wanted <= 0:
                return True
    return wanted <= 0


# Older tags some networks still send for these languages (X: "in" for Indonesian).
_LEGACY_TAGS = {"in": "id", "iw": "he", "ji": "yi"}


def given_language(tag: str | None) -> str | None:
    """A network's own language tag as routing takes it: an ISO 639-1 code, or ``None``.

    X tags each post with the language it detected ("de", "pt"); "und" (could not tell) and
    its "q…" / "zxx" tags (media, hashtags or links only) mean no language, so Quiver detects
    one itself. A regional tag ("pt-BR") is taken as its language.
    """
    if not tag:
        return None
    code = tag.strip().lower().split("-", 1)[0].split("_", 1)[0]
    if len(code) != 2 or not code.isascii() or not code.isalpha():
        return None
    return _LEGACY_TAGS.get(code, code)


def sentiment(text: str, language: str | None) -> float | None:
    """VADER's compound score in [-1, 1] for English text; ``None`` for any other language."""
    if language != "en":
        return None
    return float(_sentiment_analyzer().polarity_scores(text)["compound"])


LANGUAGE_SAMPLE = 300  # characters language detection reads
SENTIMENT_SAMPLE = 1000  # characters sentiment reads


def signals(
    text: str, detector: LanguageDetector, *, given: str | None = None
) -> tuple[str | None, float | None]:
    """The language and (English only) sentiment of ``text``, as routing takes them.

    ``given`` is the network's own language (:func:`given_language`), taken instead of a
    detection. py3langid walks the text byte by byte in Python and VADER word by word: a long
    text's head says its language, and its first thousand characters its mood. Ingest and the
    rules editor's preview both come here, so they agree on every message.
    """
    language = given or detector.detect(text[:LANGUAGE_SAMPLE])
    return language, sentiment(text[:SENTIMENT_SAMPLE], language)
