"""`DuplicateIndex`: every stored question is encoded once; a new question is compared to all of them.

This is the one-shot side of a Siamese model: adding or removing questions never retrains anything, it
only adds or drops vectors. Search is exact (FAISS `IndexFlatIP`) for small stores and approximate
(FAISS HNSW over inner product) for large ones; on unit vectors the inner product is the cosine.

An index directory holds, written together atomically by a writer that holds its lock:

- ``manifest.json``: format and version, kind, dimension, counts, the model's fingerprint and path,
  the byte size of every file, and the save's generation (checked field by field on load);
- ``vectors.faiss``: the FAISS index, in FAISS's own binary format;
- ``entries.jsonl``: one line per FAISS row, ``{"id": ..., "text": ...}``, or ``null`` once removed;
- ``checksums.sha256``: the SHA-256 of each of those files, verified as they are read;
- ``journal.jsonl``: changes made since the last save (e.g. questions added through the HTTP service),
  after a first line naming the save's generation; appended and fsynced one by one and replayed on load,
  so a crash loses nothing that was acknowledged.

Loading changes nothing on disk and sees one whole save even while another process saves the index.
"""

from __future__ import annotations

import json
import os
import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import faiss
import numpy as np

from siamdup.index.stored import (
    FORMAT,
    FORMAT_VERSION,
    JournalReading,
    check_manifest,
    journal_header,
    journal_line,
    parse_entries,
    read_journal,
)
from siamdup.model.siamese import ModelLoadError, Siamese, default_model_path
from siamdup.storage import (
    ChecksumMismatchError,
    CorruptFileError,
    StaleReadError,
    StoredFiles,
    atomic_directory,
    read_consistently,
    writer_lock,
)

if TYPE_CHECKING:
    from siamdup.verify.scoring import PairScorer

__all__ = [
    "EXACT_MAX",
    "KINDS",
    "DuplicateIndex",
    "HNSWSettings",
    "IndexLoadError",
    "IndexUpdateError",
    "Match",
    "VerifiedMatch",
]

KINDS = ("auto", "exact", "hnsw")
EXACT_MAX = 50_000  # "auto" searches exactly up to this many rows (~1 ms a query), with HNSW above
ENCODE_CHUNK = 8192  # questions encoded between two progress updates
JOURNAL = "journal.jsonl"

Progress = Callable[[int], None]  # called with the number of questions just processed


class IndexLoadError(ValueError):
    """An index directory that is missing, truncated, of another format, or built with another model."""


class IndexUpdateError(ValueError):
    """An add or remove that cannot be applied (repeated or unknown ids, empty text); nothing changed."""


@dataclass(frozen=True)
class Match:
    """A stored question found for a query, with its cosine similarity and the model's decision."""

    id: str
    text: str
    similarity: float
    duplicate: bool


@dataclass(frozen=True)
class VerifiedMatch(Match):
    """A match re-scored by the verifier: `verification` is its P(duplicate), and `duplicate` is the
    verifier's decision (verification > its threshold); `similarity` stays the index's cosine."""

    verification: float


@dataclass(frozen=True)
class HNSWSettings:
    """HNSW graph settings: links per node, build-time and query-time beam widths."""

    # With these, recall@10 against exact search is 0.99 on 500k questions (benchmarks/scale/index_scale.py).
    m: int = 32
    ef_construction: int = 200
    ef_search: int = 128


class DuplicateIndex:
    """Stored questions of one model, searchable by cosine similarity; see the module docstring."""

    # A server sets this: add() past EXACT_MAX then keeps searching exactly and leaves the HNSW build
    # to `siamdup.index.background.HNSWSwitch`, off the request path.
    switch_in_background = False
    generation = 0  # bumped whenever rows are renumbered, so a graph built from older rows is dropped

    def __init__(self, model: Siamese, kind: str = "auto", hnsw: HNSWSettings | None = None) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown index kind {kind!r}; expected one of {', '.join(KINDS)}")
        self.model = model
        self.kind = kind
        self.hnsw = hnsw or HNSWSettings()
        self.path: Path | None = None  # the directory this index was loaded from or saved to
        self._fingerprint = model.fingerprint()
        self._ids: list[str | None] = []  # per FAISS row; None once removed
        self._texts: list[str | None] = []
        self._row_of: dict[str, int] = {}
        self._faiss = self._new_faiss("hnsw" if kind == "hnsw" else "exact")
        self._search_params: faiss.SearchParameters | None = None
        self._filter_refs: tuple | None = None
        self.replayed = 0  # journal changes applied by the last load
        self.journal_damaged = 0  # journal lines that could not be read (a write cut short by a crash)
        self.journal_notes: list[str] = []  # the first few skipped journal lines, described
        self.verifier: PairScorer | None = None  # what query(verify=True) uses when given none

    # -- size and description ---------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._row_of)

    def __contains__(self, qid: object) -> bool:
        return qid in self._row_of

    @property
    def search_kind(self) -> str:
        """What the FAISS index is now: "exact" or "hnsw" (for kind "auto", chosen by size)."""
        return "hnsw" if isinstance(self._faiss, faiss.IndexHNSWFlat) else "exact"

    @property
    def switch_due(self) -> bool:
        """Kind "auto" holds more than EXACT_MAX rows but still searches exactly."""
        return self.kind == "auto" and self.search_kind == "exact" and len(self._ids) > EXACT_MAX

    @property
    def rows(self) -> int:
        """FAISS rows, removed questions included until the next compaction."""
        return self._faiss.ntotal

    def info(self) -> dict:
        return {
            "questions": len(self),
            "removed_rows": len(self._ids) - len(self),
            "kind": self.kind,
            "search": self.search_kind,
            "dim": self.model.dim,
            "model_fingerprint": self._fingerprint,
            "model_path": _model_reference(self.model),
            "threshold": self.model.threshold,
            **({"hnsw": asdict(self.hnsw)} if self.search_kind == "hnsw" else {}),
        }

    # -- changes ----------------------------------------------------------------------------------

    def add(
        self,
        ids: Sequence[str],
        texts: Sequence[str],
        *,
        vectors: np.ndarray | None = None,
        journal: bool = False,
        progress: Progress | None = None,
    ) -> None:
        """Store new questions. `vectors`: precomputed by this model (else they are encoded here).

        `progress` is advanced as vectors enter FAISS (encode with `encode()` to follow encoding too).
        `journal=True` also appends the change to the index directory's journal before applying it,
        so it survives a restart without a full save. Raises `IndexUpdateError` and changes nothing
        when an id is repeated or already stored, or a text is empty.
        """
        ids, texts, vectors = self.checked_additions(ids, texts, vectors)
        if journal:
            self.journal_additions(ids, texts)
        first = len(self._ids)
        self._ids.extend(ids)
        self._texts.extend(texts)
        self._row_of.update((qid, first + n) for n, qid in enumerate(ids))
        if self.switch_due and not self.switch_in_background:
            self._rebuild("hnsw", progress, new=vectors)
        else:
            self._add_vectors(vectors, progress)

    def checked_additions(
        self, ids: Sequence[str], texts: Sequence[str], vectors: np.ndarray | None = None
    ) -> tuple[list[str], list[str], np.ndarray]:
        """The ids, texts and vectors `add` would store (vectors encoded when None), or `IndexUpdateError`
        when an id is repeated or already stored, a text is empty or the vectors do not fit."""
        ids = [str(i) for i in ids]
        texts = list(texts)
        if len(ids) != len(texts):
            raise IndexUpdateError(f"add() got {len(ids)} ids for {len(texts)} texts")
        taken = [i for i in ids if i in self._row_of]
        repeated = [i for i, n in Counter(ids).items() if n > 1]
        if taken or repeated:
            shown = ", ".join(repr(i) for i in (taken or repeated)[:5])
            what = "already stored" if taken else "repeated in this batch"
            raise IndexUpdateError(f"{len(taken or repeated)} id(s) {what}: {shown}")
        if any(not t.strip() for t in texts):
            raise IndexUpdateError("empty question text")
        if vectors is None:
            vectors = encode(self.model, texts)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape != (len(ids), self.model.dim):
            raise IndexUpdateError(
                f"vectors of shape {vectors.shape}, expected ({len(ids)}, {self.model.dim})"
            )
        return ids, texts, vectors

    def journal_additions(self, ids: Sequence[str], texts: Sequence[str]) -> None:
        """Append an addition to the directory's journal (fsynced) without applying it: a caller holding the
        writer lock can journal before it takes the lock that searches wait for, then `add` the same rows."""
        self._journal([{"op": "add", "id": i, "text": t} for i, t in zip(ids, texts, strict=True)])

    def remove(self, ids: Iterable[str], *, journal: bool = False) -> None:
        """Drop stored questions by id; unknown ids raise `IndexUpdateError` and nothing changes."""
        ids = list(dict.fromkeys(str(i) for i in ids))
        unknown = [i for i in ids if i not in self._row_of]
        if unknown:
            shown = ", ".join(repr(i) for i in unknown[:5])
            raise IndexUpdateError(f"{len(unknown)} id(s) not in the index: {shown}")
        if journal:
            self._journal([{"op": "remove", "id": i} for i in ids])
        for qid in ids:
            row = self._row_of.pop(qid)
            self._ids[row] = self._texts[row] = None
        self._update_filter()

    # -- search -----------------------------------------------------------------------------------

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(similarities, rows), each (n, k), best first; row -1 where fewer than k questions exist."""
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(self) == 0:
            return np.full((len(vectors), k), -np.inf, np.float32), np.full((len(vectors), k), -1, np.int64)
        return self._faiss.search(vectors, k, params=self._search_params)

    def row_vectors(self, start: int, stop: int) -> np.ndarray:
        """The stored vectors of rows start..stop-1 (a copy)."""
        return self._faiss.reconstruct_n(start, stop - start)

    def swap_search(self, built: faiss.Index, generation: int) -> None:
        """Search with `built` from now on: a FAISS index of every current row, in row order."""
        if generation != self.generation or built.ntotal != self._faiss.ntotal or built.d != self.model.dim:
            raise IndexUpdateError(
                f"the new search index has {built.ntotal:,} rows of generation {generation}; "
                f"the index has {self._faiss.ntotal:,} of generation {self.generation}"
            )
        self._faiss = built
        self._update_filter()

    def query(
        self, text: str, k: int = 5, verify: bool = False, verifier: PairScorer | None = None
    ) -> list[Match]:
        """The k stored questions most similar to `text`, best first, with the model's decision; with
        `verify`, the verifier (`verifier`, or the index's `verifier` attribute) re-scores those k and decides
        instead, and they come back as `VerifiedMatch`es, best verification first."""
        return self.query_many([text], k, verify, verifier)[0]

    def query_many(
        self, texts: Sequence[str], k: int = 5, verify: bool = False, verifier: PairScorer | None = None
    ) -> list[list[Match]]:
        """`query` for several questions at once (one encoding batch, one verification batch)."""
        scores, rows = self.search(self.model.encode(list(texts)), k)
        found = [self.matches(s, r) for s, r in zip(scores, rows, strict=True)]
        return self.verified(texts, found, verifier) if verify else found

    def verified(
        self, texts: Sequence[str], found: list[list[Match]], verifier: PairScorer | None = None
    ) -> list[list[Match]]:
        """Each question's matches re-scored by the verifier in one batch (see `query`)."""
        verifier = verifier or self.verifier
        if verifier is None:
            raise ValueError("verify=True needs a verifier: pass verifier=, or set the index's verifier")
        pairs = [(text, m) for text, matches in zip(texts, found, strict=True) for m in matches]
        probabilities = iter(verifier.score([t for t, _ in pairs], [m.text for _, m in pairs]).tolist())
        results: list[list[Match]] = []
        for matches in found:
            rescored = [
                VerifiedMatch(m.id, m.text, m.similarity, p > verifier.threshold, p)
                for m, p in zip(matches, probabilities, strict=False)
            ]
            rescored.sort(key=lambda m: -m.verification)
            results.append(list(rescored))
        return results

    def matches(self, scores: np.ndarray, rows: np.ndarray) -> list[Match]:
        """Turn one row of `search` results into `Match`es."""
        tau = self.model.threshold
        return [
            Match(self._ids[r], self._texts[r], float(s), bool(s > tau))
            for s, r in zip(scores.tolist(), rows.tolist(), strict=True)
            if r >= 0 and self._ids[r] is not None
        ]

    # -- persistence ------------------------------------------------------------------------------

    def save(self, path: str | Path | None = None) -> Path:
        """Write the index atomically (to `path`, or where it was loaded from) and empty the journal.

        Takes the directory's writer lock (`DirectoryLockedError` when another process holds it).
        """
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("save() needs a path for an index that was never saved")
        removed = len(self._ids) - len(self)
        if removed and (self.search_kind == "exact" or removed > len(self._ids) / 5):
            self._rebuild(self.search_kind)  # drop removed rows for good
        generation = secrets.token_hex(8)
        with atomic_directory(target, unchecked=(JOURNAL,)) as staging:
            faiss.write_index(self._faiss, str(staging / "vectors.faiss"))
            with open(staging / "entries.jsonl", "w", encoding="utf-8") as f:
                for qid, text in zip(self._ids, self._texts, strict=True):
                    f.write(json.dumps(None if qid is None else {"id": qid, "text": text}) + "\n")
            (staging / JOURNAL).write_text(journal_header(generation))
            sizes = {name: (staging / name).stat().st_size for name in ("vectors.faiss", "entries.jsonl")}
            manifest = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "kind": self.kind,
                "search": self.search_kind,
                "hnsw": asdict(self.hnsw),
                "dim": self.model.dim,
                "rows": len(self._ids),
                "questions": len(self),
                "model": {"fingerprint": self._fingerprint, "path": _model_reference(self.model)},
                "file_sizes": sizes,
                "generation": generation,
            }
            (staging / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        self.path = target
        return target

    @classmethod
    def load(
        cls,
        path: str | Path,
        model: Siamese | None = None,
        *,
        device: str | None = None,
    ) -> DuplicateIndex:
        """Load an index directory and replay its journal.

        `model=None` loads the model the index was built with (from the path it records). Raises
        `IndexLoadError`, naming the file (and line or field), when a file is missing, corrupt (its
        checksum differs), truncated or malformed, or `model` is not the one the index was built with.
        Changes nothing on disk, and sees one whole save even while another process saves the index.
        """
        directory = Path(path)
        if not (directory / "manifest.json").is_file():
            raise IndexLoadError(f"{directory}: not a siamdup index (no manifest.json)")
        models: dict[str | None, Siamese] = {}
        try:
            return read_consistently(
                directory, lambda files: cls._read(files, model, device, models), growing=frozenset({JOURNAL})
            )
        except IndexLoadError:
            raise
        except ChecksumMismatchError as e:
            raise IndexLoadError(
                f"{e}. Rebuild the index with `siamdup index build`, or restore the directory from a copy"
            ) from None
        except CorruptFileError as e:
            raise IndexLoadError(f"{e}. Rebuild the index with `siamdup index build`") from None
        except (StaleReadError, OSError) as e:
            raise IndexLoadError(f"{directory}: {e}") from None

    @classmethod
    def _read(
        cls, files: StoredFiles, model: Siamese | None, device: str | None, models: dict
    ) -> DuplicateIndex:
        directory = files.directory
        try:
            raw = json.loads(files.read_bytes("manifest.json", editable=True))
        except ValueError as e:
            raise IndexLoadError(f"{directory}/manifest.json is not valid JSON: {e}") from None
        manifest = check_manifest(raw, directory / "manifest.json")
        for name, size in manifest.file_sizes.items():
            if not files.exists(name):
                raise IndexLoadError(f"{directory}: {name} is missing")
            if files.size(name) != size:
                raise IndexLoadError(
                    f"{directory}: {name} has {files.size(name):,} bytes, the manifest says {size:,} "
                    "(truncated or replaced); rebuild the index"
                )
        if model is None:
            if manifest.model.path not in models:
                models[manifest.model.path] = _load_recorded_model(directory, manifest.model.path, device)
            model = models[manifest.model.path]
        index = cls(model, kind=manifest.kind, hnsw=HNSWSettings(**manifest.hnsw.model_dump()))
        built_with = manifest.model.fingerprint
        if model.dim != manifest.dim or index._fingerprint != built_with:
            raise IndexLoadError(
                f"{directory} was built with another model (fingerprint {built_with}, {manifest.dim} "
                f"dimensions; recorded path {manifest.model.path or 'the shipped model'}), not the one "
                f"given (fingerprint {index._fingerprint}, {model.dim} dimensions): its vectors would not be "
                "comparable. Load it with its own model, or rebuild it with `siamdup index build`."
            )
        with files.open("vectors.faiss") as f:
            try:
                index._faiss = faiss.read_index(faiss.PyCallbackIOReader(f.read))
            except RuntimeError as e:
                raise CorruptFileError(f.path, f"cannot be read: {e}") from None
        if isinstance(index._faiss, faiss.IndexHNSWFlat):
            index._faiss.hnsw.efSearch = index.hnsw.ef_search
        entries = parse_entries(files.read_bytes("entries.jsonl"), directory / "entries.jsonl")
        for row, entry in enumerate(entries):
            index._ids.append(None if entry is None else entry[0])
            index._texts.append(None if entry is None else entry[1])
            if entry is not None:
                if entry[0] in index._row_of:
                    first = index._row_of[entry[0]] + 1
                    raise CorruptFileError(
                        directory / "entries.jsonl",
                        f"line {row + 1} repeats the id {entry[0]!r} of line {first}",
                    )
                index._row_of[entry[0]] = row
        if not (len(index._ids) == index._faiss.ntotal == manifest.rows) or index._faiss.d != model.dim:
            raise IndexLoadError(
                f"{directory}: {len(index._ids):,} entries for {index._faiss.ntotal:,} vectors of "
                f"dimension {index._faiss.d} (manifest: {manifest.rows:,} of {manifest.dim}); rebuild it"
            )
        index._update_filter()
        index.path = directory
        journal = _read_journal(files, manifest.generation)
        index.replayed, index.journal_damaged = index._replay_journal(journal)
        return index

    # -- internals --------------------------------------------------------------------------------

    def _new_faiss(self, search_kind: str) -> faiss.Index:
        if search_kind == "exact":
            return faiss.IndexFlatIP(self.model.dim)
        index = faiss.IndexHNSWFlat(self.model.dim, self.hnsw.m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = self.hnsw.ef_construction
        index.hnsw.efSearch = self.hnsw.ef_search
        return index

    def _add_vectors(self, vectors: np.ndarray, progress: Progress | None) -> None:
        step = 50_000 if progress else len(vectors)
        for start in range(0, len(vectors), max(step, 1)):
            chunk = vectors[start : start + step]
            self._faiss.add(chunk)
            if progress:
                progress(len(chunk))

    def _rebuild(
        self, search_kind: str, progress: Progress | None = None, new: np.ndarray | None = None
    ) -> None:
        """A fresh FAISS index of the live rows (plus `new` vectors for rows not yet in FAISS)."""
        old = self._faiss.reconstruct_n(0, self._faiss.ntotal) if self._faiss.ntotal else None
        if new is not None:
            old = new if old is None else np.concatenate([old, new])
        keep = [row for row, qid in enumerate(self._ids) if qid is not None]
        self.generation += 1
        self._ids = [self._ids[r] for r in keep]
        self._texts = [self._texts[r] for r in keep]
        self._row_of = {qid: row for row, qid in enumerate(self._ids)}  # type: ignore[misc]
        self._faiss = self._new_faiss(search_kind)
        if old is not None:
            self._add_vectors(old[keep], progress)
        self._update_filter()

    def _update_filter(self) -> None:
        """Removed rows stay in FAISS until the next compaction; searches skip them."""
        removed = np.array([r for r, qid in enumerate(self._ids) if qid is None], dtype=np.int64)
        if len(removed) == 0:
            self._search_params = None
            return
        selector = faiss.IDSelectorNot(faiss.IDSelectorBatch(removed))
        if self.search_kind == "hnsw":
            params = faiss.SearchParametersHNSW(sel=selector, efSearch=self.hnsw.ef_search)
        else:
            params = faiss.SearchParameters(sel=selector)
        self._search_params = params
        self._filter_refs = (selector, removed)  # FAISS keeps raw pointers to both

    def _journal(self, records: list[dict]) -> None:
        if self.path is None:
            raise ValueError("journal=True needs an index that was saved to or loaded from a directory")
        data = "".join(journal_line(r) for r in records).encode()
        with writer_lock(self.path), open(self.path / JOURNAL, "ab+") as f:
            _drop_torn_tail(f)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())

    def _replay_journal(self, journal: JournalReading) -> tuple[int, int]:
        """Apply a journal's changes in order; a repeated or unknown id is skipped, counted and described
        (in `journal_notes`) like a damaged line. Returns (applied, skipped)."""
        skipped = journal.damaged
        applied = 0
        start = 0
        records = journal.records
        while start < len(records):  # consecutive adds are encoded as one batch
            op = records[start].op
            end = start
            while end < len(records) and records[end].op == op:
                end += 1
            batch, seen = [], set()
            for r in records[start:end]:
                stored = r.id in self._row_of
                if r.id in seen or stored == (op == "add"):
                    skipped += 1
                    what = "already stored" if op == "add" else "not stored"
                    journal.note(f"{JOURNAL} line {r.line}: {op} of id {r.id!r}, {what}, skipped")
                    continue
                seen.add(r.id)
                batch.append(r)
            if op == "add":
                self.add([r.id for r in batch], [r.text for r in batch])  # type: ignore[misc]
            else:
                self.remove([r.id for r in batch])
            applied += len(batch)
            start = end
        self.journal_notes = list(journal.notes)
        return applied, skipped


def _drop_torn_tail(f: BinaryIO, chunk: int = 1 << 16) -> None:
    """Cut a last line left unfinished by a crash: it was never acknowledged, and a reader must be able to
    tell such a line (only ever the last) from a damaged one."""
    end = f.seek(0, os.SEEK_END)
    position = end
    while position > 0:
        start = max(0, position - chunk)
        f.seek(start)
        block = f.read(position - start)
        newline = block.rfind(b"\n")
        if newline >= 0:
            keep = start + newline + 1
            break
        position = start
    else:
        keep = 0
    if keep != end:
        f.truncate(keep)
    f.seek(0, os.SEEK_END)


def _read_journal(files: StoredFiles, generation: str | None) -> JournalReading:
    """The journal that follows the save read; one left by another save means a save landed meanwhile."""
    if not files.exists(JOURNAL):
        return JournalReading()
    with files.open(JOURNAL, growing=True) as f:
        journal = read_journal(f, f.path)
    if generation is not None and journal.generation not in (None, generation):
        raise CorruptFileError(
            f.path,
            f"follows the save {journal.generation}, not the manifest's {generation}: it belongs to "
            "another save of this index; move it away to load the index without its changes",
        )
    return journal


def encode(model: Siamese, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
    """Encode many questions in chunks, reporting progress after each."""
    out = np.empty((len(texts), model.dim), dtype=np.float32)
    for start in range(0, len(texts), ENCODE_CHUNK):
        chunk = texts[start : start + ENCODE_CHUNK]
        out[start : start + len(chunk)] = model.encode(chunk)
        if progress:
            progress(len(chunk))
    return out


def _model_reference(model: Siamese) -> str | None:
    """Where the model was loaded from; None for the shipped model or one never saved."""
    if model.path is None or model.path.resolve() == default_model_path().resolve():
        return None
    return str(model.path.resolve())


def _load_recorded_model(directory: Path, recorded: str | None, device: str | None) -> Siamese:
    try:
        return Siamese.load(recorded, device=device)
    except ModelLoadError as e:
        raise IndexLoadError(
            f"{directory} was built with the model at {recorded}, which cannot be loaded ({e}); "
            "pass the model explicitly"
        ) from None
