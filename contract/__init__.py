"""The contract of the Workonflow Call API as code, for everything downstream of openapi.yaml.

- `contract.spec`: the facts that `openapi.yaml` states (operations, request schemas, documented
  statuses, response fields, limits, the ids' pattern), read from the file once.
- `contract.demo`: the sandbox's demo team and credentials, and sample ids for tests and tools.

What the spec cannot say (the state rules and the counts) is written once, in the executable
model of the contract that the fuzzer uses as its oracle.
"""
