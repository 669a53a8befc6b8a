"""The contract of the Workonflow Call API as code, for everything downstream of openapi.yaml.

- `contract.spec`: the facts that `openapi.yaml` states (operations, request schemas, documented
  statuses, response fields, limits, the ids' pattern), read from the file once.
- `contract.demo`: the sandbox's demo team and credentials, and sample ids for tests and tools.
- `contract.rules`, `contract.model`, `contract.observations`: the executable model of the
  contract (the rules of docs/contract.md as data, and the state machine that applies them).

What the spec cannot say (the state rules and the counts) is written once, in the executable
model of the contract that the fuzzer uses as its oracle.
"""
