"""A case worker opens a complaint through the intake form and takes it through every phase on the
case page: questionnaire answered and tasks done in the page's parts, a return from follow-up to
planning with a reason, and closure with an outcome."""

from __future__ import annotations

import re
from typing import Any

from casework.domain.lifecycle import Phase
from casework.services import cases, lifecycle
from tests.e2e.conftest import Site, check_accessibility, screenshot, sign_in
from tests.factories import move, new_case


def _phase(site: Site, reference: str) -> Phase:
    return cases.get_case(site.db, site.admin, reference).phase


def _move_forward(page: Any, site: Site, reference: str, target: str, phase: Phase) -> None:
    page.get_by_role("button", name=f"Move to {target}").click()
    page.wait_for_load_state("networkidle")
    assert _phase(site, reference) is phase, page.locator("#case-actions").inner_text()
    assert page.locator(".phasebar li.current").inner_text().startswith(target)


def _wait_for_parts(page: Any) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_function("() => document.querySelectorAll('[hx-trigger=load]').length === 0")


def test_a_complaint_goes_through_every_phase(page: Any, site: Site) -> None:
    sign_in(page, site.accounts["worker"])

    # Screening: the case is opened with the intake form.
    page.goto("/cases/new?type=complaint")
    page.locator("#title").fill("Charged twice for one purchase")
    page.locator("#f-product").select_option("credit_card")
    page.locator("#f-channel").select_option("email")
    page.get_by_role("button", name="Open the case", exact=True).click()
    page.wait_for_load_state("networkidle")
    page.get_by_role("link", name="Go to the case").click()
    page.wait_for_load_state("networkidle")
    match = re.search(r"/cases/(CASE-\d{4}-\d{6,})$", page.url)
    assert match, page.url
    reference = match.group(1)
    _wait_for_parts(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Charged twice for one purchase"
    assert page.locator(".phasebar li.current").inner_text().startswith("Screening")
    check_accessibility(page)
    screenshot(page, "case-page")

    _move_forward(page, site, reference, "Assessment", Phase.ASSESSMENT)

    # Assessment: the move to risk waits for the questionnaire, listed in advance.
    assert "complaint_details" in page.locator("#unmet-forward").inner_text()
    _wait_for_parts(page)
    form = page.locator("#questionnaire-complaint_details")
    form.locator("#q-complaint_details-what_happened").fill("My card was charged twice for the same purchase.")
    form.locator("#q-complaint_details-raised_before").get_by_label("No", exact=True).check()
    form.locator("#q-complaint_details-preferred_resolution").select_option("refund")
    # Wanting compensation asks how much at once, before saving; the text typed so far stays.
    form.locator("#q-complaint_details-wants_compensation").get_by_label("Yes", exact=True).check()
    form.locator("#q-complaint_details-compensation_amount").wait_for()
    assert form.locator("#q-complaint_details-what_happened").input_value() == "My card was charged twice for the same purchase."
    form.locator("#q-complaint_details-wants_compensation").get_by_label("No", exact=True).check()
    form.locator("#q-complaint_details-compensation_amount").wait_for(state="detached")
    form.locator("#q-complaint_details-regulator_contacted").get_by_label("No", exact=True).check()
    form.get_by_role("button", name=re.compile("Save answers")).click()
    page.wait_for_load_state("networkidle")
    # Saving the answers refreshed the move forms: nothing is missing any more.
    page.locator("#unmet-forward").wait_for(state="detached")
    screenshot(page, "case-assessment-answered")
    _move_forward(page, site, reference, "Risk", Phase.RISK)

    # Risk: the automatic risk decision is explained in the header.
    assert page.locator(".risk-explanation").inner_text().strip()
    _move_forward(page, site, reference, "Planning", Phase.PLANNING)

    # Planning: the plan was created from the case type's templates.
    _move_forward(page, site, reference, "Implementation", Phase.IMPLEMENTATION)

    # Implementation: every task of the plan must be done first.
    assert "task" in page.locator("#unmet-forward").inner_text()
    _wait_for_parts(page)
    for _ in range(20):
        buttons = page.locator("#part-plan button[id$='-toggle']", has_text="Mark done")
        if buttons.count() == 0:
            break
        button_id = buttons.first.get_attribute("id")
        page.locator(f"[id='{button_id}']").click()
        page.locator(f"[id='{button_id}']", has_text="Reopen").wait_for()
    page.locator("#unmet-forward").wait_for(state="detached")
    _move_forward(page, site, reference, "Follow-up", Phase.FOLLOW_UP)

    # Follow-up: the plan failed, back to planning with a reason (the reason is required).
    page.locator("#return-phase").select_option("planning")
    page.get_by_role("button", name="Return", exact=True).click()
    page.wait_for_load_state("networkidle")
    assert _phase(site, reference) is Phase.FOLLOW_UP
    assert "requires a reason" in page.locator("#return-reason-error").inner_text()
    page.locator("#return-reason").fill("The customer was charged again: the refund did not go through.")
    page.get_by_role("button", name="Return", exact=True).click()
    page.wait_for_load_state("networkidle")
    assert _phase(site, reference) is Phase.PLANNING
    history = page.locator(".phase-history").inner_text()
    assert "Returned" in history and "the refund did not go through" in history
    screenshot(page, "case-returned")

    _move_forward(page, site, reference, "Implementation", Phase.IMPLEMENTATION)
    _move_forward(page, site, reference, "Follow-up", Phase.FOLLOW_UP)
    _move_forward(page, site, reference, "Evaluation", Phase.EVALUATION)

    # Evaluation: close with an outcome.
    page.locator("#close-outcome").select_option("upheld")
    page.locator("#close-reason").fill("Refunded twice the amount; apology sent.")
    page.get_by_role("button", name="Close the case").click()
    page.wait_for_load_state("networkidle")
    closed = cases.get_case(site.db, site.admin, reference)
    assert closed.phase is Phase.CLOSED and closed.outcome == "upheld"
    assert "This case is closed." in page.locator("main").inner_text()
    moves = [(m.from_phase, m.to_phase, m.kind) for m in lifecycle.phase_history(site.db, site.admin, reference)]
    assert (Phase.FOLLOW_UP, Phase.PLANNING, "return") in moves and moves[-1][1:] == (Phase.CLOSED, "close")
    assert len(moves) == 11
    _wait_for_parts(page)
    check_accessibility(page)
    screenshot(page, "case-closed")


def test_a_refused_move_and_a_note_on_the_case_page(page: Any, site: Site) -> None:
    worker = site.accounts["worker"]
    opened = new_case(site.db, worker.principal, team="complaints", title="Statement missing")
    case = move(site.db, worker.principal, opened, Phase.ASSESSMENT)
    sign_in(page, worker)
    page.goto(f"/cases/{case.reference}")
    # Back to screening without a reason: refused, the message at the field.
    page.get_by_role("button", name="Return", exact=True).click()
    page.wait_for_load_state("networkidle")
    assert "requires a reason" in page.locator("#return-reason-error").inner_text()
    assert page.locator("#return-reason").get_attribute("aria-invalid") == "true"
    check_accessibility(page)
    screenshot(page, "case-move-refused")

    page.locator("#note-body").fill("Called the customer <b>twice</b>.")
    page.get_by_role("button", name="Add note").click()
    page.locator("#notes .note-body", has_text="Called the customer <b>twice</b>.").wait_for()
    assert page.locator("#note-body").input_value() == ""
