"""Safe storage of model and index directories: one writer at a time (`writer_lock`), atomic saves
(`atomic_directory`), checksums of every stored file, and readers that see one consistent version while a
writer saves (`read_consistently`). The rules are in docs/guides/concurrency.md."""

from siamdup.storage.atomic import COMPLETE, STAGING, atomic_directory, recover
from siamdup.storage.checksums import CHECKSUMS, ChecksumMismatchError, CorruptFileError
from siamdup.storage.lock import LOCK_FILE, DirectoryLockedError, LockHolder, holds_lock, writer_lock
from siamdup.storage.reading import StaleReadError, StoredFiles, read_consistently
from siamdup.storage.validation import check_format, validated

__all__ = [
    "CHECKSUMS",
    "COMPLETE",
    "LOCK_FILE",
    "STAGING",
    "ChecksumMismatchError",
    "CorruptFileError",
    "DirectoryLockedError",
    "LockHolder",
    "StaleReadError",
    "StoredFiles",
    "atomic_directory",
    "check_format",
    "holds_lock",
    "read_consistently",
    "recover",
    "validated",
    "writer_lock",
]
