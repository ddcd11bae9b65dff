"""The one error of backups and restores."""


class BackupError(Exception):
    """What the operator must know or fix; the commands show the message as it is."""
