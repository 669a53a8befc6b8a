"""Test support for the suite, the benchmarks and the fuzzing proofs (not shipped to users).

- `testkit.spec`: the spec as JSON Schema validators, for the spec's own tests.
- `testkit.source_doc`: a parser of Workonflow's source document.
- `testkit.faulty`: the reference server behind one contract fault each, how to serve them
  (`python -m testkit.faulty NAME`) and how to fuzz them (`testkit.faulty.harness`).

Servers are started with the one launcher, `reference_server.testing.ServerProcess`.
"""
