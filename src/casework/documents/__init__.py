"""Documents attached to cases (KYC identity papers, bank details, proofs).

Sub-package ``checks`` holds the pure automated checks (no database, no HTTP) so that they can
be unit-tested, benchmarked and reused by the API, the worker and the CLI alike.
"""
