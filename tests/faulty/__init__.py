"""Faulty variants of the reference server (`variants`), how to serve them (`serve.py`) and
how to fuzz them (`harness`): the proof that `nox -s fuzz` finds each class of fault."""
