"""Contract fuzzing of the Workonflow Call API: `nox -s fuzz` (or `python -m fuzzing`).

schemathesis (configured by `schemathesis.toml`) generates requests from `openapi.yaml` in all
its phases and runs all its checks, plus the contract's own checks of `fuzzing.checks`.

- `fuzzing.cli`: the command line, the exit status.
- `fuzzing.target`: the first contact with a target; `fuzzing.embedded`: the reference server
  a run starts without `--url`.
- `fuzzing.runner`: one run of schemathesis's engine, folded into a `RunResult`
  (`fuzzing.results`: the records a run is given and gives back).
- `fuzzing.oracle`: the contract model of a run (`Judge`), fed by the walk (`fuzzing.walk`),
  the `contract_model` check and `python -m fuzzing replay`.
- `fuzzing.report`: progress line, summary tables, curl reproductions, JUnit XML, JSON.
- `fuzzing.checks` / `fuzzing.check_rules`: the custom checks and the rules behind them.
- `fuzzing.request_signing`: the bot's signature on every request, the forgeries, `python -m fuzzing
  sign` and the reproductions that sign again when they run.
- `fuzzing.forgeries` / `fuzzing.spellings`: the forged signatures of the boundary phase,
  derived from the domain of each input (bot id, time, digest), and how each is written.
- `fuzzing.events` (with `event_receiver`, `event_match`, `events_cli`, `platform_events`):
  the call events the server delivers to the run's webhook, held to the answers that caused
  them.
"""
