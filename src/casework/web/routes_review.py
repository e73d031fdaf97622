"""Documents to review (``/documents/review``): every document waiting for a person, across the cases
one may see, oldest first, each linked to its case page where it is validated or rejected.

The case page shows one case's documents; whoever reviews documents all day needs the list across
cases that ``casework documents review-queue`` and ``GET /api/v1/documents/review`` give.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from casework.domain.access import Perm
from casework.domain.errors import Forbidden
from casework.services import document_checks
from casework.web.pages import StaffUser, db_of, render

router = APIRouter(include_in_schema=False)
LIMIT = 200


@router.get("/documents/review")
def review_page(request: Request, user: StaffUser) -> Response:
    if not user.can(Perm.DOCUMENT_INTERNAL_READ):
        raise Forbidden("your role may not read the documents' checks")
    waiting = document_checks.review_queue(db_of(request), user.who, limit=LIMIT + 1)
    return render(
        request,
        "review.html",
        {"nav": "review", "items": waiting[:LIMIT], "more": len(waiting) > LIMIT, "may_review": user.can(Perm.DOCUMENT_REVIEW)},
    )


__all__ = ["router"]
