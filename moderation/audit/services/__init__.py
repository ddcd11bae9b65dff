"""Writes of the audit area: the hash chain every change of state is appended to, and the
auditors' exports."""
