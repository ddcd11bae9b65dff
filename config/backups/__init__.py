"""Backups that prove themselves (README "Backups"): `manage.py backup` and `manage.py restore`.

A backup is one tar file: `database.dump` (pg_dump's custom format, taken from an exported
snapshot), `media/…` (the private media tree), `audit/checkpoints.txt` and `audit/leaves.bin`
(the audit log's copies outside PostgreSQL, wherever AUDIT_CHECKPOINT_FILE and AUDIT_LEAF_FILE
point) and, last, `manifest.json`: when, from what, the row counts and audit head of that same
snapshot, and the size and SHA-256 of every other member. One file moves and is checked as a
unit, and it is written under a hidden temporary name and renamed only when complete.

The media are read after the dump, inside the snapshot's transaction: evidence is written once
under a name made from its SHA-256 (FileSystemStorage never overwrites) and committed after its
file, exports and imports are written once, and the audit files are only appended to, so every
file a row of the snapshot names is already on disk. Files can only vanish through retention
(which marks the row deleted before it removes the file) or an export given up on; the evidence
check (`evidence_problems` in create.py) names any that did.

The audit signing key and the deployment's secrets (SECRET_KEY, PLATFORM_SECRET_KEYS) are never
in a backup: they are kept with the other secrets.

The modules: `tools` finds pg_dump, pg_restore and psql and says how they reach the database;
`archive` writes, reads and checks the tar file and its manifest; `create` makes a backup;
`restore` restores one. Other code imports only what this module exports.
"""

from config.backups.create import COUNTED, backup_create
from config.backups.errors import BackupError
from config.backups.restore import backup_restore

__all__ = ["COUNTED", "BackupError", "backup_create", "backup_restore"]
