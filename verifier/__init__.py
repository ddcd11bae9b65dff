"""The standalone verifier (saring_verify.py): one file, standard library only, for anyone
outside Saring; Saring's own log code imports the same functions."""
