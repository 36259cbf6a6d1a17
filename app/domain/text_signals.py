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
import logging
import re
import string
import threading
from collections.abc import Iterable, Sequence
from typing import Any

log = logging.getLogger("quiver.domain.text_signals")

MIN_LETTERS = 4  # fewer letters than this (after links and mentions are removed): no language
MIN_CONFIDENCE = 0.5  # a normalized probability below this: undecidable
_NOISE = re.compile(r"https?://\S+|www\.\S+|[@#]\w+")

_lock = threading.Lock()
_full_identifier: Any = None  # py3langid's LanguageIdentifier over all languages, built lazily
_analyzer: Any = None  # vaderSentiment's SentimentIntensityAnalyzer, built lazily
_emoji_chars: frozenset[str] = frozenset()  # the characters VADER reads as words


def _identifier() -> Any:
    global _full_identifier
    with _lock:
        if _full_identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            _full_identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return _full_identifier


def _sentiment_analyzer() -> Any:
    global _analyzer, _emoji_chars
    with _lock:
        if _analyzer is None:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            analyzer = SentimentIntensityAnalyzer()
            _emoji_chars = frozenset(k for k in analyzer.emojis if len(k) == 1)
            _analyzer = analyzer
        return _analyzer


class LanguageDetector:
    """Detects the language of short social text among the organization's languages.

    Nothing is loaded until the first :meth:`detect`; loading is guarded by a lock, and
    classifying only reads the model, so one detector can serve several threads.
    """

    def __init__(self, languages: Iterable[str], *, fallback: Iterable[str] = ()) -> None:
        self.languages = _tidy(languages)
        if not self.languages:
            raise ValueError("a language detector needs at least one language")
        self.fallback = _tidy(fallback)
        self._restricted: Any = None
        self._own_lock = threading.Lock()

    def _model(self) -> Any:
        with self._own_lock:
            if self._restricted is None:
                full = _identifier()
                unknown = set(self.languages) - set(full.labels)
                if unknown and self.fallback and not set(self.fallback) - set(full.labels):
                    log.warning(
                        "py3langid does not know %s: detecting among %s",
                        ", ".join(sorted(unknown)),
                        ", ".join(self.fallback),
                    )
                    self.languages, unknown = self.fallback, set()
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

    def detect_many(self, texts: Sequence[str]) -> list[str | None]:
        """:meth:`detect` of each text, the same answers, for a batch at a fraction of the cost.

        py3langid walks each text's bytes through its automaton one byte per Python step;
        here all the batch's texts take each step together (one numpy operation per byte
        position), and each text is then scored exactly as py3langid scores it.
        """
        cleaned = [_NOISE.sub(" ", t) for t in texts]
        wanted = [i for i, c in enumerate(cleaned) if _has_letters(c, MIN_LETTERS)]
        out: list[str | None] = [None] * len(texts)
        if not wanted:
            return out
        model = self._model()
        walker = _walker(model)
        encoded = [model._encode(cleaned[i]) for i in wanted]
        for i, (lang, confidence) in zip(wanted, walker.classify(model, encoded), strict=True):
            if confidence >= MIN_CONFIDENCE:
                out[i] = lang
        return out


def _tidy(languages: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({lang.strip().lower() for lang in languages if lang}))


class _Walker:
    """py3langid's automaton as numpy arrays, walked by a whole batch of texts at once."""

    def __init__(self, model: Any) -> None:
        import numpy as np

        self._np = np
        self.nextmove = np.frombuffer(model.tk_nextmove, dtype=np.uint32)  # shares its memory
        self.rowbase = np.asarray(model._rowbase, dtype=np.intp)
        self.output = np.asarray(model.tk_output, dtype=np.intp)

    def visits(self, encoded: Sequence[bytes]) -> Any:
        """The automaton's feature output per text and byte position (-1: none).

        One row per text; the walk takes one numpy step per byte position for the whole batch.
        """
        np = self._np
        n = len(encoded)
        order = sorted(range(n), key=lambda i: -len(encoded[i]))
        lengths = [len(encoded[i]) for i in order]
        width = lengths[0] if lengths else 0
        data = np.zeros((n, width), dtype=np.uint8)
        for row, i in enumerate(order):
            if lengths[row]:
                data[row, : lengths[row]] = np.frombuffer(encoded[i], dtype=np.uint8)
        # active[pos]: how many texts (the longest first) are longer than pos
        active = np.searchsorted(-np.asarray(lengths, dtype=np.intp), -np.arange(width), "left")
        sorted_visits = np.full((n, width), -1, dtype=np.int32)
        state = np.zeros(n, dtype=np.intp)
        nextmove, rowbase, output = self.nextmove, self.rowbase, self.output
        for pos in range(width):
            k = int(active[pos])
            s = nextmove[rowbase[state[:k]] + data[:k, pos]]
            state[:k] = s
            sorted_visits[:k, pos] = output[s]
        visits = np.empty_like(sorted_visits)
        visits[np.asarray(order, dtype=np.intp)] = sorted_visits
        return visits

    def classify(self, model: Any, encoded: Sequence[bytes]) -> list[tuple[str, float]]:
        """py3langid's ``classify`` (normalized probabilities) of each encoded text.

        All texts are scored together; a text whose answer a rounding difference could change
        (the two best within :data:`_CLOSE`, or the best within it of the confidence floor) is
        scored again one by one exactly as py3langid does, so the answers are py3langid's.
        """
        np = self._np
        n = len(encoded)
        classes = len(model.nb_classes)
        if not n:
            return []
        visits = self.visits(encoded)
        rows, cols = np.nonzero(visits >= 0)
        features = visits[rows, cols]
        keys = rows * len(self.output) + features
        unique, counts = np.unique(keys, return_counts=True)
        text_of = unique // len(self.output)
        weights = np.log1p(counts.astype(np.float32))[:, None] * model.nb_ptc[
            unique % len(self.output)
        ].astype(np.float32)
        scores = np.zeros((n, classes), dtype=np.float32)
        if len(unique):
            starts = np.flatnonzero(np.r_[True, text_of[1:] != text_of[:-1]])
            featured = text_of[starts]
            scores[featured] = np.add.reduceat(weights, starts, axis=0) + model.nb_pc
        lengths = np.asarray([len(t) or 1 for t in encoded], dtype=np.float32)
        scores *= (1.0 / np.sqrt(lengths))[:, None]
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        scores /= scores.sum(axis=1, keepdims=True)
        for i, j in model._alias_pairs:
            scores[:, i] += scores[:, j]
            scores[:, j] = 0.0
        best = scores.argmax(axis=1)
        top = scores[np.arange(n), best]
        second = np.partition(scores, -2, axis=1)[:, -2] if classes > 1 else np.zeros(n)
        close = (top - second < _CLOSE) | (np.abs(top - MIN_CONFIDENCE) < _CLOSE)
        out: list[tuple[str, float]] = []
        for i in range(n):
            if close[i]:
                lang, confidence = model.classify(encoded[i])
                out.append((str(lang), float(confidence)))
            else:
                out.append((str(model.nb_classes[int(best[i])]), float(top[i])))
        return out


_CLOSE = 1e-3  # probabilities this close may differ from py3langid's by rounding alone


_walkers: dict[int, _Walker] = {}


def _walker(model: Any) -> _Walker:
    """The numpy form of ``model``'s automaton (shared by every restriction of one model)."""
    key = id(model.tk_nextmove)
    with _lock:
        found = _walkers.get(key)
        if found is None:
            found = _walkers[key] = _Walker(model)
        return found


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
    analyzer = _sentiment_analyzer()
    if not _may_have_feeling(text, analyzer.lexicon):
        return 0.0
    return float(analyzer.polarity_scores(text)["compound"])


def _may_have_feeling(text: str, lexicon: dict[str, float]) -> bool:
    """Whether VADER could score ``text`` other than 0.

    That is, whether it holds an emoji VADER reads, or a word VADER looks up (as written or
    without the punctuation around it, in lower case).

    VADER gives every word outside its lexicon no valence, so a text without any lexicon word
    scores exactly 0; saying so here skips VADER's character-by-character pass over it.
    """
    if not text.isascii() and not _emoji_chars.isdisjoint(text):
        return True
    for token in text.split():
        low = token.lower()
        if low in lexicon or low.strip(_PUNCTUATION) in lexicon:
            return True
    return False


_PUNCTUATION = string.punctuation


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


def signals_many(
    texts: Sequence[str], detector: LanguageDetector, given: Sequence[str | None]
) -> list[tuple[str | None, float | None]]:
    """:func:`signals` of each text, the languages detected together.

    ``given[i]`` is the network's language of ``texts[i]``; the others are detected in one
    :meth:`LanguageDetector.detect_many`.
    """
    if len(texts) != len(given):
        raise ValueError("one given language (or None) per text")
    unknown = [i for i, g in enumerate(given) if not g]
    detected = detector.detect_many([texts[i][:LANGUAGE_SAMPLE] for i in unknown])
    languages = list(given)
    for i, language in zip(unknown, detected, strict=True):
        languages[i] = language
    return [
        (language, sentiment(text[:SENTIMENT_SAMPLE], language))
        for text, language in zip(texts, languages, strict=True)
    ]


_batch_detectors: dict[tuple[tuple[str, ...], tuple[str, ...]], LanguageDetector] = {}


def batch_signals(
    texts: Sequence[str],
    languages: Sequence[str],
    fallback: Sequence[str],
    given: Sequence[str | None],
) -> list[tuple[str | None, float | None]]:
    """:func:`signals_many` with a detector this process keeps per language list.

    What a signal worker process runs: its arguments and answer are plain data.
    """
    key = (_tidy(languages), _tidy(fallback))
    with _lock:
        detector = _batch_detectors.get(key)
        if detector is None:
            detector = _batch_detectors[key] = LanguageDetector(key[0], fallback=key[1])
    return signals_many(texts, detector, given)
