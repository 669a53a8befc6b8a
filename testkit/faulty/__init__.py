"""Faulty variants of the reference server (`variants`), how to serve one
(`python -m testkit.faulty NAME`) and how to fuzz them (`harness`): the proof that
`nox -s fuzz` finds each class of fault."""
