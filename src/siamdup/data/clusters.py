"""Duplicate clusters: the transitive closure of the duplicate pairs.

Two questions are the same node when they share a qid or the same normalised text (lower-cased
alphanumerics), so the raw and tokenized forms of one question meet, with or without ids.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from siamdup.data.readers import Pair

_NON_ALNUM = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """The identity of a question's text: lower-cased alphanumeric words."""
    return _NON_ALNUM.sub(" ", text.lower()).strip()


class UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        root = self.parent.setdefault(x, x)
        while root != self.parent[root]:
            root = self.parent[root]
        while x != root:  # path compression
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[ra] = rb


def _node(text: str, qid: str | None, uf: UnionFind) -> str:
    key = "t:" + normalise(text)
    uf.find(key)  # registers the question even if it is in no duplicate pair
    if qid:
        uf.union("q:" + qid, key)
    return key


class Clusters:
    """Cluster ids for questions, built from the duplicate pairs (label 1) of `pairs`."""

    def __init__(self, pairs: Sequence[Pair]) -> None:
        uf = UnionFind()
        for p in pairs:
            a, b = _node(p.question1, p.qid1, uf), _node(p.question2, p.qid2, uf)
            if p.label == 1:
                uf.union(a, b)
        self._uf = uf
        roots: dict[str, int] = {}
        self._ids = {key: roots.setdefault(uf.find(key), len(roots)) for key in list(uf.parent)}

    def __len__(self) -> int:
        return len(set(self._ids.values()))

    def of(self, text: str) -> int:
        """Cluster id of a question seen in the pairs; an unseen question gets -1."""
        return self._ids.get("t:" + normalise(text), -1)

    def pair_cluster(self, pair: Pair) -> int:
        """The cluster of a duplicate pair (both questions share it)."""
        return self.of(pair.question1)
