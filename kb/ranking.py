"""How the knowledge base answers a question: words of a language (stop words dropped,
stemmed), an inverted index of the articles of one locale, and a relevance ranking.

Backend independent, so that SQLite and PostgreSQL answer the same question with the
same articles: English and Russian words are reduced to their Snowball stems; Polish
(no Snowball stemmer) is matched by prefix. A query word also matches the longer words
it begins ("sync" finds "syncing") and, when it is found nowhere, its closest spelling
in the knowledge base's vocabulary ("pasword" finds "password").

``kb.queries`` is the only caller: it decides which articles a reader may see and
keeps one index per locale and knowledge-base generation."""

import difflib
import math
import re
from collections import Counter, defaultdict

import snowballstemmer

WORD = re.compile(r"[^\W_]+", re.UNICODE)

STOP_WORDS = {
    "en": frozenset(
        """a about above after again against all am an and any are aren't as at be
        because been before being below between both but by can cannot could did do
        does doing don't down during each few for from further had has have having he
        her here hers herself him himself his how i i'm if in into is isn't it it's its
        itself just let's me more most my myself no nor not now of off on once only or
        other our ours ourselves out over own same she should so some such than that the
        their theirs them themselves then there these they this those through to too
        under until up very was we were what when where which while who whom why will
        with would you your yours yourself yourselves get got please help want need
        also can't cant dont doesnt isnt im way anyone someone something thing things
        still yet my me there's""".split()
    ),
    "pl": frozenset(
        """a aby ale bo by być był była było były co czy dla do gdy gdzie go i ich ile
        im innych jak jakie jaki jest jestem jeśli jej jego już ja je kiedy kto która
        które który mi mnie mój moja moje może mam ma na nad nie nich nim o od oraz po
        pod przez przy się są ta tak taki te tego tej ten to tu tylko ty tym u w we
        więc z za ze że żeby mój moim moich mojego można muszę chcę proszę""".split()
    ),
    "ru": frozenset(
        """а без более бы был была были было быть в вам вас весь во вот все всё всего
        вы где да для до его ее её если есть ещё еще же за здесь и из или им их к как
        когда кто ли либо мне мой может мы на над нам нас не него нее неё нет ни них но
        ну о об однако он она они оно от очень по под при с со так также такой там те
        тем то того тоже той только том ты у уже хотя чего чей чем что чтобы чье чья эта
        эти это я мой моя мои меня могу нужно хочу пожалуйста""".split()
    ),
}

# A customer's word → words the articles use for the same thing (one word each). A
# small, hand-kept list, as help centres keep one; a match through it counts a little
# less than the word itself.
SYNONYMS = {
    "en": {
        "2fa": ["authenticator"],
        "mfa": ["authenticator"],
        "otp": ["authenticator"],
        "login": ["sign"],
        "log": ["sign"],
        "logon": ["sign"],
        "laptop": ["computer", "device"],
        "pc": ["computer"],
        "desktop": ["computer"],
        "phone": ["mobile", "device"],
        "employee": ["member"],
        "employees": ["members"],
        "colleague": ["member"],
        "colleagues": ["members"],
        "coworker": ["member"],
        "user": ["member", "seat"],
        "users": ["members", "seats"],
        "undo": ["restore"],
        "revert": ["restore"],
        "rollback": ["restore"],
        "overwrote": ["overwritten"],
        "showing": ["missing"],
        "virus": ["ransomware"],
        "malware": ["ransomware"],
        "price": ["quote", "pricing"],
        "cost": ["pricing"],
        "lag": ["slow"],
        "slow": ["speed"],
        "quit": ["cancel"],
        "refund": ["cancel"],
        "bill": ["invoice"],
        "receipt": ["invoice"],
    },
}

_STEMMERS = {"en": "english", "ru": "russian"}
POLISH_PREFIX = 5  # a Polish word is keyed by its first letters (no stemmer)
PREFIX_MIN = 4  # a query word of this length or more also matches longer words
TYPO_CUTOFF = 0.8

# Where a word is found, and how much that says about the article.
FIELD_WEIGHTS = {"title": 4.0, "tags": 2.5, "summary": 2.0, "body": 1.0}


def language_of(language_code: str) -> str:
    code = (language_code or "en").split("-")[0].lower()
    return code if code in STOP_WORDS else "en"


class Words:
    """The words of one language as search keys."""

    def __init__(self, language_code: str):
        self.language = language_of(language_code)
        name = _STEMMERS.get(self.language)
        self._stemmer = snowballstemmer.stemmer(name) if name else None
        self._stop = STOP_WORDS[self.language] | STOP_WORDS["en"]
        self._keys: dict[str, str] = {}

    def key(self, word: str) -> str:
        known = self._keys.get(word)
        if known is None:
            if self._stemmer is not None:
                known = self._stemmer.stemWord(word)
            else:
                known = word[:POLISH_PREFIX]
            if len(self._keys) < 100_000:
                self._keys[word] = known
        return known

    def tokens(self, text: str) -> list[str]:
        return [w for w in WORD.findall((text or "").lower().replace("ё", "е"))]

    def keys(self, text: str) -> list[str]:
        """Every word of a document as a key (stop words too: they cost nothing)."""
        return [self.key(w) for w in self.tokens(text)]

    def query_keys(self, text: str) -> list[tuple[str, ...]]:
        """The words of a question that carry meaning, in order, no repeats: each as
        its key followed by its synonyms' keys. When every word is a stop word ("how
        do I"), they are all kept."""
        words = [w for w in self.tokens(text) if len(w) > 1 or w.isdigit()]
        meaningful = [w for w in words if w not in self._stop]
        synonyms = SYNONYMS.get(self.language, {})
        keys, seen = [], set()
        for word in meaningful or words:
            key = self.key(word)
            if key in seen:
                continue
            seen.add(key)
            others = (self.key(other) for other in synonyms.get(word, ()))
            keys.append((key, *(other for other in others if other != key)))
        return keys[:12]


class Index:
    """An inverted index of articles: key → {article id: weighted term frequency}."""

    def __init__(self, language_code: str):
        self.words = Words(language_code)
        self.postings: dict[str, dict[int, float]] = defaultdict(dict)
        self.titles: dict[int, str] = {}
        self.stamps: dict[int, object] = {}  # article id → version indexed
        self._keys_of: dict[int, list[str]] = {}
        self.vocabulary: dict[str, str] = {}  # every word indexed → its key

    def add(self, article_id: int, fields: dict[str, str], *, stamp=None) -> None:
        """Index (or re-index) an article's fields; ``stamp`` names the version."""
        for key in self._keys_of.pop(article_id, ()):
            self.postings[key].pop(article_id, None)
            if not self.postings[key]:
                del self.postings[key]
        self.titles[article_id] = fields.get("title", "")
        self.stamps[article_id] = stamp
        weighted: Counter = Counter()
        for field, text in fields.items():
            weight = FIELD_WEIGHTS.get(field, 1.0)
            tokens = self.words.tokens(text)
            for word in tokens:
                if len(word) >= PREFIX_MIN and len(self.vocabulary) < 200_000:
                    self.vocabulary.setdefault(word, self.words.key(word))
            for key, count in Counter(map(self.words.key, tokens)).items():
                weighted[key] += weight * (1 + math.log(count))
        for key, value in weighted.items():
            self.postings[key][article_id] = value
        self._keys_of[article_id] = list(weighted)

    def _matching_keys(self, key: str) -> list[str]:
        found = [
            known
            for known in self.postings
            if known == key or (len(key) >= PREFIX_MIN and known.startswith(key))
        ]
        if not found and len(key) >= PREFIX_MIN:  # a typo: the closest spellings
            close = difflib.get_close_matches(
                key, list(self.vocabulary), n=2, cutoff=TYPO_CUTOFF
            )
            found = list(
                dict.fromkeys(
                    self.vocabulary[word]
                    for word in close
                    if self.vocabulary[word] in self.postings
                )
            )
        return found

    def rank(self, query: str, allowed_ids) -> list[int]:
        """Ids of the ``allowed_ids`` articles that match ``query``: those containing
        every meaningful word first, then those containing some, each group by
        relevance (TF-IDF with field weights), ties by id."""
        keys = self.words.query_keys(query)
        if not keys:
            return []
        allowed = set(allowed_ids)
        total = max(len(allowed), 1)
        scores: dict[int, float] = defaultdict(float)
        matched: Counter = Counter()
        for alternatives in keys:
            best: dict[int, float] = {}
            for position, key in enumerate(alternatives):
                for known in self._matching_keys(key):
                    self._score(known, key, position, allowed, total, best)
            for pk, value in best.items():
                scores[pk] += value
                matched[pk] += 1
        every = len(keys)
        return sorted(
            scores, key=lambda pk: (matched[pk] < every, -matched[pk], -scores[pk], pk)
        )

    def _score(self, known, key, position, allowed, total, best) -> None:
        """Raise ``best[article id]`` to what the indexed key ``known`` (found for the
        query key ``key``, a synonym when ``position`` > 0) is worth in each article."""
        postings = self.postings[known]
        df = sum(1 for pk in postings if pk in allowed)
        if not df:
            return
        idf = math.log(1 + total / df)
        exact = (1.0 if known == key else 0.7) * (1.0 if position == 0 else 0.8)
        for pk, weight in postings.items():
            if pk in allowed:
                value = weight * idf * exact
                if value > best.get(pk, 0.0):
                    best[pk] = value

    def closest(self, query: str, allowed_ids, limit: int = 3) -> list[int]:
        """Articles whose titles look most like ``query`` (for a question nothing
        answered), by character similarity; those not similar at all are left out."""
        text = " ".join(self.words.tokens(query))
        if not text:
            return []
        ratios = []
        for pk in allowed_ids:
            title = " ".join(self.words.tokens(self.titles.get(pk, "")))
            ratio = difflib.SequenceMatcher(None, text, title).ratio()
            if ratio >= 0.3:
                ratios.append((-ratio, pk))
        return [pk for _, pk in sorted(ratios)[:limit]]
