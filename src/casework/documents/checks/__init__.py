"""Pure automated document checks for KYC: MRZ, OCR of MRZ images, IBAN/BIC, file sanity, score.

No database and no HTTP here: every check takes bytes or text and returns
:class:`~casework.documents.checks.result.CheckResult` values. Heavy modules (OCR) are imported
lazily by their own module, so importing this package stays cheap.
"""

from casework.documents.checks.result import CheckResult, Outcome

__all__ = ["CheckResult", "Outcome"]
