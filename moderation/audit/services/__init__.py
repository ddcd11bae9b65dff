"""Writes of the audit area: the events every change of state writes (chain.py), their sealing
into the Merkle tree and its proofs (log.py), the signed checkpoints (checkpoints.py), and the
auditors' exports."""
