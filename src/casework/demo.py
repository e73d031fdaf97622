"""A realistic demo data set, loaded through the services layer only.

Everything here is orchestration of ``casework.services`` calls, so the demo data goes
through the same validation, phase rules and audit trail as real work. The content is
deterministic for a given seed and date (identifiers and "now" timestamps aside): a fictional retail
bank, "Northbank", with complaints, support tickets, onboarding (KYC) cases and disputed
or fraudulent transactions, spread over the last six months and over every phase.

The demo creates accounts people can sign in with, all with the password ``DEMO_PASSWORD``:
an administrator, two supervisors, case workers in the teams that handle each case type
("complaints", "support", "onboarding", "fraud"), an auditor, two customers (linked to their
party, so they see their own cases) and an external investigator (a third party that some fraud
cases are shared with). Cases are worked by the members of their team, as the real thing would be.

Each service call is one durable transaction, so the generator keeps the number of calls
per case modest (about ten on average).
"""

from __future__ import annotations

import datetime as dt
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from casework.domain.access import Principal, Role
from casework.domain.errors import NotFound
from casework.domain.lifecycle import ORDER, Phase, Priority
from casework.services import accounts, auth, cases, lifecycle, notes, parties, plans, sharing
from casework.services.database import Database
from casework.services.schemas import (
    CaseCreate,
    CasePartyLink,
    CaseTypeKey,
    Channel,
    CommunicationCreate,
    Direction,
    GoalCreate,
    GoalStatus,
    GoalUpdate,
    NoteCreate,
    NoteVisibility,
    PartyCreate,
    PartyKind,
    PartyRole,
    TaskCreate,
    TaskStatus,
    TaskUpdate,
    TransitionRequest,
)
from casework.services.sharing import ShareCreate, SharePart

HISTORY_DAYS = 182
DOMAIN = "northbank.example"

# ---------------------------------------------------------------- accounts and teams

#: The one password of every demo account, so people can sign in and try the product.
#: Demo data only: never load the demo into a database that holds real cases.
DEMO_PASSWORD = "casework-demo-2026"

#: The team that handles each case type; members of a team see its cases.
TEAMS = {
    "complaint": "complaints",
    "support_ticket": "support",
    "onboarding": "onboarding",
    "disputed_transaction": "fraud",
}

#: Staff accounts: name, role, teams. Case workers and supervisors handle the cases of their teams.
#: Kept to about a dozen accounts in all: each password hash (argon2) costs a noticeable fraction of a second.
STAFF: list[tuple[str, Role, tuple[str, ...]]] = [
    ("Hannah Clarke", Role.ADMINISTRATOR, ()),
    ("Amira Haddad", Role.SUPERVISOR, ("complaints", "support")),
    ("Sofia Marquez", Role.SUPERVISOR, ("fraud", "onboarding")),
    ("Tom Whitaker", Role.CASE_WORKER, ("complaints",)),
    ("Priya Raman", Role.CASE_WORKER, ("support",)),
    ("Grace Okafor", Role.CASE_WORKER, ("onboarding",)),
    ("Daniel Brennan", Role.CASE_WORKER, ("fraud",)),
    ("Mei Chen", Role.CASE_WORKER, ("fraud",)),
    ("Ruth Adler", Role.AUDITOR, ()),
]

#: Customers with an account (linked to their party), and one third party (an external investigator
#: that fraud cases are shared with).
CUSTOMERS: list[tuple[str, str]] = [
    ("Olivia Bennett", "olivia.bennett@mail.example"),
    ("Kwame Mensah", "kwame.mensah@post.example"),
]
THIRD_PARTY = ("Kestrel Investigations", "cases@kestrel-investigations.example")

# ---------------------------------------------------------------- customers

FIRST_NAMES = [
    "Olivia", "Noah", "Amelia", "Oliver", "Isla", "George", "Ava", "Arthur", "Mia", "Muhammad", "Ivy", "Leo",
    "Freya", "Harry", "Lily", "Oscar", "Florence", "Archie", "Willow", "Henry", "Aisha", "Kwame", "Zofia",
    "Mateusz", "Chloe", "Rhys", "Siobhan", "Ciaran", "Fatima", "Yusuf", "Ananya", "Rohan", "Elena", "Marco",
    "Ingrid", "Erik", "Nkechi", "Tariq", "Hannah", "Samuel", "Beatriz", "Diego", "Yuki", "Hiroshi", "Margaret",
    "Bernard", "Dorothy", "Kenneth",
]  # fmt: skip
LAST_NAMES = [
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Robinson", "Wright",
    "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Khan", "Ahmed", "Murphy", "O'Neill",
    "Kowalski", "Nowak", "Mensah", "Adeyemi", "Singh", "Sharma", "Rossi", "Fernandes", "Nakamura", "Jensen",
    "MacLeod", "Campbell", "Hughes", "Price", "Lewis", "Morgan",
]  # fmt: skip
ORGANISATIONS = [
    "Harbour Lane Bakery Ltd", "Pennine Joinery Ltd", "Brightwater Dental Practice", "Kestrel Logistics Ltd",
    "Oakfield Veterinary Surgery", "Copperleaf Design Studio", "Riverside Community Trust", "Atlas Print & Sign Ltd",
    "Greenway Landscaping", "Northgate Plumbing Services", "Blue Heron Café", "Marlow & Finch Solicitors",
    "Summit Fitness Ltd", "Lantern Tech Consulting", "Fenwick Farm Shop", "Silverline Taxis Ltd",
]  # fmt: skip
STREETS = [
    "High Street", "Station Road", "Church Lane", "Mill Road", "Victoria Street", "Park Avenue", "Queens Road",
    "Kings Terrace", "Meadow Close", "Orchard Way", "Canal Side", "Market Square",
]  # fmt: skip
TOWNS = [
    ("Leeds", "LS1"), ("Manchester", "M4"), ("Bristol", "BS1"), ("Cardiff", "CF10"), ("Glasgow", "G2"),
    ("Norwich", "NR2"), ("York", "YO1"), ("Brighton", "BN1"), ("Belfast", "BT1"), ("Plymouth", "PL1"),
    ("Sheffield", "S1"), ("Aberdeen", "AB10"),
]  # fmt: skip
MERCHANTS = [
    "QuickMart Online", "Skyline Airways", "StreamFlix", "Urban Threads", "TechHaven Electronics", "FreshBox Meals",
    "Globetrotter Hotels", "PetPal Supplies", "GameVault", "CityRide Scooters", "Luxe Watches Direct",
    "HomeHub Furniture", "FitNow Gym", "BookNook", "Sunrise Holidays",
]  # fmt: skip
DEVICES = ["iPhone 15, iOS 18.1", "iPhone 13, iOS 17.6", "Pixel 8, Android 15", "Galaxy S23, Android 14",
           "Galaxy A54, Android 14", "Windows 11, Edge", "macOS 15, Safari", "iPad Air, iPadOS 18"]  # fmt: skip
APP_VERSIONS = ["6.12.0", "6.12.1", "6.13.0", "6.14.2", "7.0.0", "7.0.1"]
BRANCHES = ["Leeds Briggate", "Manchester Deansgate", "Bristol Broadmead", "Cardiff Queen Street", "York Parliament Street",
            "Glasgow Buchanan Street", "Norwich Gentleman's Walk"]  # fmt: skip
DOCUMENTS = ["passport", "driving_licence", "utility_bill", "bank_statement", "council_tax_bill", "payslip"]
CURRENCIES = ["GBP"] * 6 + ["EUR"] * 3 + ["USD"]

# ---------------------------------------------------------------- case content


@dataclass
class CaseSpec:
    case_type: str
    title: str
    description: str
    priority: Priority
    risk: int
    custom_data: dict[str, Any]
    organisation_customer: bool = False
    merchant: str | None = None


def _money(rng: random.Random, low: float, high: float) -> float:
    # Round amounts the way people pay: mostly pounds and pence, big ones to the pound.
    value = rng.uniform(low, high)
    return float(round(value)) if value > 1000 else round(value, 2)


def _dispute(rng: random.Random, opened: dt.datetime) -> CaseSpec:
    merchant = rng.choice(MERCHANTS)
    currency = rng.choice(CURRENCIES)
    scenarios: list[tuple[str, str, float, float, bool, str]] = [
        ("Card charged twice at {m}", "The customer was charged twice for a single purchase of {amt} at {m}; both "
         "transactions have settled.", 8, 450, False, "card_online"),
        ("Unrecognised card payment at {m}", "Customer does not recognise a payment of {amt} to {m} and still holds "
         "the card. Possible card-not-present fraud.", 40, 2600, True, "card_online"),
        ("Unauthorised transfer emptied savings account", "A faster payment of {amt} left the customer's savings account "
         "to a new payee overnight. Customer denies making or authorising it; online banking session came from an "
         "unfamiliar device.", 6000, 48000, True, "faster_payment"),
        ("Goods not received from {m}", "Order paid on {when} for {amt} was never delivered; {m} has stopped replying "
         "to the customer's emails.", 35, 1500, False, "card_online"),
        ("Refund from {m} not credited", "{m} confirmed a refund of {amt} three weeks ago but it has not reached the "
         "account.", 15, 900, False, "card_online"),
        ("ATM did not dispense cash", "The ATM debited {amt} but dispensed no cash. Customer has the receipt.",
         20, 500, False, "atm"),
        ("Subscription still charged after cancellation ({m})", "Customer cancelled the {m} subscription but was "
         "charged {amt} again on {when}.", 5, 120, False, "recurring_card"),
        ("Card used abroad while in customer's possession", "Several contactless and chip payments totalling {amt} "
         "were made abroad while the customer was at home with the card. Suspected cloned card.", 250, 7000, True,
         "card_present"),
        ("Invoice redirection scam: payment to fraudster", "Customer paid a supplier invoice of {amt} after receiving "
         "an email with new bank details; the supplier never received the money (authorised push payment scam).",
         2500, 35000, True, "faster_payment"),
        ("Direct debit taken without mandate by {m}", "A direct debit of {amt} was collected by {m}; the customer never "
         "signed a mandate.", 10, 300, False, "direct_debit"),
        ("Contactless payments after card reported lost", "Card was reported lost at 09:12 but contactless payments of "
         "{amt} in total went through afterwards.", 30, 400, True, "card_present"),
        ("Price charged by {m} differs from agreed amount", "Customer agreed a price with {m} but was charged {amt}.",
         50, 3000, False, "card_online"),
    ]  # fmt: skip
    title, text, low, high, fraud, channel = rng.choice(scenarios)
    amount = _money(rng, low, high)
    when = (opened - dt.timedelta(days=rng.randint(1, 25))).date()
    amt = f"{amount:,.2f} {currency}"
    if fraud and amount >= 5000:
        priority, risk = Priority.P1, rng.randint(82, 98)
    elif fraud and amount >= 1000:
        priority, risk = Priority.P2, rng.randint(60, 80)
    elif fraud:
        priority, risk = rng.choice([Priority.P2, Priority.P3]), rng.randint(45, 65)
    elif amount >= 1000:
        priority, risk = Priority.P3, rng.randint(25, 45)
    else:
        priority, risk = rng.choice([Priority.P3, Priority.P3, Priority.P4]), rng.randint(5, 30)
    data: dict[str, Any] = {
        "amount": amount,
        "currency": currency,
        "transaction_date": when.isoformat(),
        "channel": channel,
        "fraud_suspected": fraud,
    }
    uses_merchant = "{m}" in title or "{m}" in text
    if uses_merchant:
        data["merchant"] = merchant
    if channel.startswith("card"):
        data["card_last4"] = f"{rng.randint(0, 9999):04d}"
    return CaseSpec(
        "disputed_transaction",
        title.format(m=merchant),
        text.format(m=merchant, amt=amt, when=when.isoformat()),
        priority,
        risk,
        data,
        organisation_customer=rng.random() < 0.15,
        merchant=merchant if uses_merchant else None,
    )


def _complaint(rng: random.Random, opened: dt.datetime) -> CaseSpec:
    branch = rng.choice(BRANCHES)
    scenarios: list[tuple[str, str, str, Priority, tuple[int, int]]] = [
        ("Poor service at {b} branch", "Customer waited over an hour at the {b} branch and was then told to come back "
         "another day.", "branch_service", Priority.P4, (5, 15)),
        ("Overdraft charges applied without notice", "Customer was charged overdraft fees for three months without "
         "any alert and asks for them to be refunded.", "fees_and_charges", Priority.P3, (15, 30)),
        ("Mortgage payment holiday request ignored", "Request for a payment holiday after a job loss was sent twice "
         "and never answered; arrears are now building.", "mortgage", Priority.P2, (35, 55)),
        ("Complaint about rude call-centre agent", "Customer says the agent was dismissive and ended the call "
         "abruptly.", "staff_conduct", Priority.P4, (5, 15)),
        ("Account closed without explanation", "Customer's current account was closed with 7 days' notice and no "
         "reason given; salary payment is now bouncing.", "account_closure", Priority.P2, (30, 50)),
        ("Delay releasing funds from late father's account", "Bereavement documents were provided six weeks ago and "
         "the estate funds are still frozen. Customer is distressed.", "bereavement", Priority.P2, (20, 40)),
        ("Savings rate cut without notification", "The interest rate on the easy-access saver was reduced without "
         "the promised notice.", "savings", Priority.P3, (10, 25)),
        ("Letter sent to wrong address: data breach concern", "A statement with the customer's account details was "
         "delivered to a neighbour. Possible personal data breach to be assessed.", "data_protection", Priority.P1,
         (70, 90)),
        ("Branch closure leaves elderly customer without access", "The customer's local branch closed and they cannot "
         "use online banking; relative complains on their behalf.", "accessibility", Priority.P3, (20, 40)),
        ("Address change not applied after three requests", "Customer asked three times to update the address; "
         "letters still go to the old one.", "account_maintenance", Priority.P3, (15, 35)),
        ("Charged for a replacement card never requested", "A replacement card fee was charged though the customer "
         "never ordered one.", "fees_and_charges", Priority.P4, (5, 15)),
        ("Loan decision took eight weeks", "The personal loan decision took eight weeks, so the customer lost the car "
         "they meant to buy.", "lending", Priority.P3, (10, 25)),
        ("Previous complaint handled badly", "Customer is unhappy with how complaint handling went last time: no "
         "call-back and a generic final response.", "complaint_handling", Priority.P3, (15, 30)),
        ("Misleading information about fixed-rate bond", "Customer was told they could withdraw early without penalty; "
         "a penalty was applied.", "savings", Priority.P2, (30, 50)),
    ]  # fmt: skip
    title, text, category, priority, (rlo, rhi) = rng.choice(scenarios)
    data: dict[str, Any] = {
        "category": category,
        "channel": rng.choice(["phone", "email", "branch", "letter", "web_form"]),
        "product": {
            "mortgage": "mortgage",
            "savings": "savings",
            "lending": "personal_loan",
        }.get(category, "current_account"),
        "vulnerable_customer": category in ("bereavement", "accessibility") or rng.random() < 0.08,
    }
    if rng.random() < 0.45:
        data["redress_requested"] = _money(rng, 25, 750)
        data["currency"] = "GBP"
    if "{b}" in title:
        data["branch"] = branch
    if rng.random() < 0.07 and priority is not Priority.P1:
        priority = Priority.P2
        data["ombudsman_referral_threatened"] = True
    return CaseSpec("complaint", title.format(b=branch), text.format(b=branch), priority, rng.randint(rlo, rhi), data,
                    organisation_customer=rng.random() < 0.12)  # fmt: skip


def _support(rng: random.Random, opened: dt.datetime) -> CaseSpec:
    device = rng.choice(DEVICES)
    version = rng.choice(APP_VERSIONS)
    scenarios: list[tuple[str, str, str, Priority]] = [
        ("Cannot log in to mobile app", "Login fails with 'Something went wrong (E-401)' on {d}, app {v}. Password "
         "reset did not help.", "login", Priority.P3),
        ("One-time passcode SMS not received", "Customer never receives the OTP text when approving online payments; "
         "phone number on file is correct.", "authentication", Priority.P3),
        ("Card declined online despite available funds", "Online card payments are declined with code 05 although the "
         "balance is sufficient.", "cards", Priority.P3),
        ("Statement PDF download fails", "Downloading statements in online banking gives a blank page in {d}.",
         "online_banking", Priority.P4),
        ("App crashes on startup after update to {v}", "Since updating to {v} the app closes immediately on {d}.",
         "mobile_app", Priority.P3),
        ("Unable to add a new payee", "Adding a payee stops at the confirmation-of-payee step with a timeout.",
         "payments", Priority.P3),
        ("Push notifications not arriving", "Spending notifications stopped arriving on {d}.", "mobile_app",
         Priority.P4),
        ("Biometric login stopped working", "Face/fingerprint login is rejected on {d} after the {v} update.",
         "login", Priority.P4),
        ("Online banking locked after failed attempts", "Customer is locked out after three failed password attempts "
         "and needs access urgently to pay rent.", "login", Priority.P2),
        ("Request to change registered mobile number", "Customer has a new phone number and cannot receive passcodes "
         "on the old one.", "account_maintenance", Priority.P3),
        ("Card cannot be added to mobile wallet", "Adding the debit card to the wallet on {d} fails with 'card not "
         "supported'.", "cards", Priority.P4),
        ("Standing order not visible in app", "A standing order set up in branch does not appear under scheduled "
         "payments.", "payments", Priority.P4),
        ("Payments stuck as 'pending' for two days", "Several outgoing payments have shown as pending since the "
         "weekend; customer worries they were sent twice.", "payments", Priority.P2),
    ]  # fmt: skip
    title, text, component, priority = rng.choice(scenarios)
    data: dict[str, Any] = {
        "component": component,
        "channel": rng.choice(["chat", "phone", "email", "portal"]),
        "device": device,
    }
    if "{v}" in title or "{v}" in text or component == "mobile_app":
        data["app_version"] = version
    risk = rng.randint(2, 20) if priority is not Priority.P2 else rng.randint(15, 35)
    return CaseSpec("support_ticket", title.format(d=device, v=version), text.format(d=device, v=version), priority, risk, data)


def _onboarding(rng: random.Random, opened: dt.datetime) -> CaseSpec:
    org = rng.choice(ORGANISATIONS)
    scenarios: list[tuple[str, str, str, Priority, tuple[int, int], bool]] = [
        ("KYC: passport expired for new account", "The passport supplied with the application expired {n} months ago; "
         "a valid identity document is needed.", "personal_current", Priority.P3, (10, 25), False),
        ("KYC: proof of address older than three months", "Utility bill supplied is dated {n} months ago.",
         "personal_current", Priority.P4, (5, 20), False),
        ("New business account for {o}", "Business current account application for {o}; certificate of incorporation "
         "received, director ID pending.", "business_current", Priority.P3, (15, 35), True),
        ("Sanctions screening potential match", "Applicant's name and date of birth partially match an entry on the "
         "consolidated sanctions list; account opening is on hold.", "personal_current", Priority.P1, (85, 97), False),
        ("PEP declaration needs enhanced due diligence", "Applicant declared a close family member holds public office; "
         "enhanced due diligence and senior sign-off required.", "personal_savings", Priority.P2, (60, 80), False),
        ("Joint account: second applicant ID missing", "Joint application received but only the first applicant has "
         "completed identity verification.", "joint_current", Priority.P4, (5, 20), False),
        ("Source of funds for large initial deposit", "Applicant intends to deposit about {n}0,000 GBP from a property "
         "sale; evidence of source of funds requested.", "personal_savings", Priority.P2, (50, 70), False),
        ("Student account: university letter needed", "Student account application needs proof of enrolment.",
         "student", Priority.P4, (2, 10), False),
        ("Name mismatch between ID and application", "Surname on the driving licence differs from the application "
         "(recent marriage); marriage certificate requested.", "personal_current", Priority.P3, (10, 30), False),
        ("Tax residency self-certification missing", "Non-resident applicant has not completed the CRS/FATCA "
         "self-certification.", "personal_savings", Priority.P3, (25, 45), False),
        ("Beneficial owner details incomplete for {o}", "Ownership structure of {o} shows a holding company; ultimate "
         "beneficial owners above 25% still to be identified.", "business_current", Priority.P2, (45, 70), True),
        ("Video identification failed: poor image quality", "Automated video ID could not read the document; the "
         "applicant must retry or visit a branch.", "personal_current", Priority.P4, (5, 15), False),
    ]  # fmt: skip
    title, text, product, priority, (rlo, rhi), business = rng.choice(scenarios)
    n = rng.randint(2, 9)
    data: dict[str, Any] = {
        "product": product,
        "channel": rng.choice(["app", "web", "branch"]),
        "documents_received": rng.sample(DOCUMENTS, k=rng.randint(1, 3)),
    }
    if business:
        data["company_name"] = org
        data["company_number"] = f"{rng.randint(1000000, 15999999):08d}"
    return CaseSpec("onboarding", title.format(o=org), text.format(o=org, n=n), priority, rng.randint(rlo, rhi), data,
                    organisation_customer=business)  # fmt: skip


GENERATORS: dict[str, Callable[[random.Random, dt.datetime], CaseSpec]] = {
    "complaint": _complaint,
    "support_ticket": _support,
    "onboarding": _onboarding,
    "disputed_transaction": _dispute,
}
TYPE_WEIGHTS = {"complaint": 30, "support_ticket": 30, "onboarding": 18, "disputed_transaction": 22}
SLA_DAYS = {Priority.P1: 2, Priority.P2: 5, Priority.P3: 14, Priority.P4: 30}

# ---------------------------------------------------------------- what happens on a case

PLAN: dict[str, list[tuple[str, list[str]]]] = {
    "complaint": [
        ("Resolve the complaint within the 8-week deadline",
         ["Review call recordings and account notes", "Draft final response letter", "Calculate redress if upheld"]),
        ("Put things right for the customer",
         ["Agree remedy with team leader", "Refund fees and interest", "Send final response"]),
    ],
    "support_ticket": [
        ("Restore the customer's access",
         ["Reproduce the issue on the same app version", "Reset credentials and re-register the device",
          "Confirm with the customer that it works"]),
        ("Fix the payment problem",
         ["Check payment logs for the affected transactions", "Escalate to payments operations", "Update customer"]),
    ],
    "onboarding": [
        ("Complete customer due diligence",
         ["Request the missing documents", "Verify documents against issuing source", "Record risk assessment"]),
        ("Decide on the application",
         ["Run enhanced due diligence checks", "Obtain senior sign-off", "Notify applicant of decision"]),
    ],
    "disputed_transaction": [
        ("Recover the customer's money",
         ["Raise chargeback with the card scheme", "Apply temporary credit to the account", "Review merchant response"]),
        ("Contain the fraud and refund",
         ["Block card and issue replacement", "Send recall request to beneficiary bank", "Report to Action Fraud"]),
    ],
}  # fmt: skip
OUTCOMES = {
    "complaint": ["upheld", "upheld", "partially upheld", "not upheld", "not upheld", "withdrawn by customer"],
    "support_ticket": ["resolved", "resolved", "resolved", "workaround provided", "duplicate of another ticket"],
    "onboarding": ["account opened", "account opened", "account opened", "application declined", "abandoned by applicant"],
    "disputed_transaction": ["refunded in full", "chargeback won", "chargeback lost", "partially refunded", "customer liable"],
}
SCREEN_OUT_REASONS = [
    "Duplicate of a case already open for this customer",
    "Not within scope: handled by the card scheme directly",
    "Customer withdrew the request during the first call",
    "Resolved at first contact; no case work needed",
]
RETURN_TO_PLANNING = [
    "Customer reports the problem persists; the plan needs another action",
    "Merchant rejected the chargeback; preparing second presentment",
    "Follow-up call showed the agreed remedy was not applied",
]
RETURN_TO_ASSESSMENT = [
    "Documents supplied are insufficient; reassessing the facts",
    "New information from the customer changes the assessment",
]
REOPEN_REASONS = [
    "Customer disputed the outcome and sent new evidence",
    "Financial Ombudsman Service referral received",
    "Same issue reoccurred within 30 days",
]
INTERNAL_NOTES = [
    "Called the customer, no answer; voicemail left with the case reference.",
    "Checked the account history for the last 12 months; nothing similar before.",
    "Discussed with team leader: proceed as a standard case.",
    "Customer is anxious; agreed to call back every Friday with an update.",
    "Cross-checked with the transaction logs; details confirmed.",
    "Waiting for the customer to send the requested documents.",
    "Second-line review requested because of the amount involved.",
    "Notes from the call: customer confirmed identity with security questions.",
]  # fmt: skip
SHARED_NOTES = [
    "We have received your request and a case handler has been assigned. We will update you within 5 working days.",
    "Thank you for the documents; we are reviewing them now.",
    "We have completed the agreed action. Please let us know if anything is still not right.",
    "Your case is now closed. You can reply to this message within 6 months if you are not satisfied.",
]
CUSTOMER_NOTES = [
    "I have uploaded the documents you asked for. Please let me know if anything else is needed.",
    "Thank you for getting back to me so quickly.",
    "Could you tell me roughly how long this will take?",
]
THIRD_PARTY_TASKS = [
    "Obtain the merchant's records of the disputed transaction",
    "Trace the beneficiary account and report findings",
    "Review device and login evidence for the disputed session",
]
RISK_NOTES = [
    "Risk raised: large amount and new payee pattern. Fraud team informed.",
    "Risk assessment recorded; customer flagged as potentially vulnerable.",
    "Enhanced monitoring placed on the account for 90 days.",
]
INBOUND_CHANNELS = [Channel.EMAIL, Channel.PHONE, Channel.PORTAL, Channel.CHAT, Channel.LETTER]


def _phase_weights(age_days: float) -> dict[str, int]:
    """Older cases are further along; "screened_out" is a close straight from screening."""
    if age_days < 2:
        return {"screening": 60, "assessment": 25, "risk": 5, "screened_out": 10}
    if age_days < 7:
        return {"screening": 40, "assessment": 30, "risk": 10, "planning": 8, "implementation": 4, "screened_out": 6, "closed": 2}
    if age_days < 30:
        return {"screening": 8, "assessment": 14, "risk": 11, "planning": 16, "implementation": 20, "follow_up": 9,
                "evaluation": 6, "screened_out": 8, "closed": 8}  # fmt: skip
    if age_days < 90:
        return {"screening": 2, "assessment": 5, "risk": 5, "planning": 9, "implementation": 16, "follow_up": 14,
                "evaluation": 10, "screened_out": 10, "closed": 29}  # fmt: skip
    return {"assessment": 2, "planning": 3, "implementation": 6, "follow_up": 7, "evaluation": 7, "screened_out": 15, "closed": 60}


Move = tuple[Phase, str | None, str | None]  # target, reason, outcome


@dataclass
class DemoAccount:
    """A demo account people can sign in with (all share :data:`DEMO_PASSWORD`)."""

    name: str
    email: str
    role: Role
    teams: tuple[str, ...] = ()


@dataclass
class DemoReport:
    cases: int = 0
    accounts: int = 0  # accounts created by this run (existing demo accounts are reused)
    parties: int = 0
    service_calls: int = 0
    seconds: float = 0.0
    by_phase: Counter[str] = field(default_factory=Counter)
    by_type: Counter[str] = field(default_factory=Counter)
    sign_ins: list[DemoAccount] = field(default_factory=list)


def _email(name: str) -> str:
    return name.lower().replace(" ", ".") + "@" + DOMAIN


class _Loader:
    def __init__(self, db: Database, who: Principal, rng: random.Random, now: dt.datetime, report: DemoReport) -> None:
        self.db, self.who, self.rng, self.now, self.report = db, who, rng, now, report
        self.midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        self.handlers: dict[str, list[Principal]] = {}  # team -> its case workers and supervisors
        self.customers: list[Principal] = []  # customers with an account
        self.third_party: Principal | None = None
        self.customer_queue: list[tuple[int, Principal]] = []  # (case index, customer) still to give a case
        self.shared_once = False
        self.people: list[uuid.UUID] = []
        self.organisations: dict[str, uuid.UUID] = {}
        self.merchants: dict[str, uuid.UUID] = {}

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self.report.service_calls += 1
        return fn(*args, **kwargs)

    # ------------------------------------------------------------ accounts and reference data

    def account(self, cmd: accounts.AccountCreate) -> Principal:
        """The principal of a demo account, created (with the demo password) unless it exists already."""
        try:
            view = accounts.get_account(self.db, self.who, cmd.email)
        except NotFound:
            view = self.call(accounts.create_account, self.db, self.who, cmd)
            self.report.accounts += 1
        self.report.sign_ins.append(DemoAccount(view.name, view.email, view.role, tuple(view.teams)))
        principal: Principal = auth.load_principal(self.db, view.id)
        return principal

    def ensure_accounts(self) -> None:
        for name, role, teams in STAFF:
            cmd = accounts.AccountCreate(name=name, email=_email(name), role=role, teams=list(teams), password=DEMO_PASSWORD)
            principal = self.account(cmd)
            if role in (Role.CASE_WORKER, Role.SUPERVISOR):
                for team in teams:
                    self.handlers.setdefault(team, []).append(principal)
        for name, email in CUSTOMERS:
            try:
                party_id = accounts.get_account(self.db, self.who, email).party_id
            except NotFound:
                party_id = None
            if party_id is None:
                party = self._person().model_copy(update={"name": name, "email": email})
                party_id = self.call(parties.create_party, self.db, self.who, party).id
                self.report.parties += 1
            cmd = accounts.AccountCreate(name=name, email=email, role=Role.CUSTOMER, party_id=party_id, password=DEMO_PASSWORD)
            self.customers.append(self.account(cmd))
        name, email = THIRD_PARTY
        self.third_party = self.account(accounts.AccountCreate(name=name, email=email, role=Role.THIRD_PARTY, password=DEMO_PASSWORD))

    def plan_customer_cases(self, count: int) -> None:
        """Give each demo customer a few cases, spread over the period, so they see something when they sign in."""
        if not self.customers or count < 1:
            return
        per_customer = max(2, count // 50)
        wanted = min(count, per_customer * len(self.customers))
        indices = sorted(self.rng.sample(range(count), k=wanted))
        self.customer_queue = [(i, self.customers[n % len(self.customers)]) for n, i in enumerate(indices)]

    def _person(self) -> PartyCreate:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        town, postcode = rng.choice(TOWNS)
        letters = "ABDEFGHJLNPQRSTUWXYZ"
        slug = f"{first}.{last}".lower().replace("'", "")
        return PartyCreate(
            kind=PartyKind.PERSON,
            name=f"{first} {last}",
            email=f"{slug}{rng.randint(1, 99)}@{rng.choice(['mail.example', 'post.example', 'inbox.example'])}",
            phone=f"+44 7700 9{rng.randint(0, 99999):05d}",
            address=f"{rng.randint(1, 180)} {rng.choice(STREETS)}, {town} {postcode} "
            f"{rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}",
            date_of_birth=dt.date(rng.randint(1938, 2006), rng.randint(1, 12), rng.randint(1, 28)),
        )

    def _organisation(self, name: str) -> PartyCreate:
        rng = self.rng
        town, postcode = rng.choice(TOWNS)
        slug = "".join(ch for ch in name.lower().split(" ltd")[0] if ch.isalnum())
        return PartyCreate(
            kind=PartyKind.ORGANISATION,
            name=name,
            email=f"accounts@{slug}.example",
            phone=f"+44 20 7946 0{rng.randint(0, 999):03d}",
            address=f"Unit {rng.randint(1, 40)}, {rng.choice(STREETS)}, {town} {postcode}",
            registration_number=f"{rng.randint(1000000, 15999999):08d}",
        )

    def customer_for(self, index: int, spec: CaseSpec) -> tuple[uuid.UUID, Principal | None]:
        """The case's customer party, and their account if they have one.

        Organisations are one party per name; demo customers with an account get the personal cases
        planned for them; about a third of the other personal cases come from a returning customer.
        """
        if not spec.organisation_customer and self.customer_queue and self.customer_queue[0][0] <= index:
            _, account = self.customer_queue.pop(0)
            assert account.party_id is not None
            return account.party_id, account
        return self._party_for(spec), None

    def _party_for(self, spec: CaseSpec) -> uuid.UUID:
        if spec.organisation_customer:
            name = spec.custom_data.get("company_name") or self.rng.choice(ORGANISATIONS)
            if name not in self.organisations:
                self.organisations[name] = self.call(parties.create_party, self.db, self.who, self._organisation(name)).id
                self.report.parties += 1
            return self.organisations[name]
        if self.people and self.rng.random() < 0.35:
            return self.rng.choice(self.people)
        person: uuid.UUID = self.call(parties.create_party, self.db, self.who, self._person()).id
        self.report.parties += 1
        self.people.append(person)
        return person

    def merchant(self, name: str) -> uuid.UUID:
        if name not in self.merchants:
            self.merchants[name] = self.call(parties.create_party, self.db, self.who, self._organisation(name)).id
            self.report.parties += 1
        return self.merchants[name]

    # ------------------------------------------------------------ one case

    def moves(self, target: str, case_type: str) -> list[Move]:
        rng = self.rng
        if target == "screened_out":
            return [(Phase.CLOSED, rng.choice(SCREEN_OUT_REASONS), "screened_out")]
        closing = target == "closed"
        stop = ORDER.index(Phase.EVALUATION if closing else Phase(target))
        risk_return = stop >= ORDER.index(Phase.PLANNING) and rng.random() < 0.07
        follow_up_return = stop >= ORDER.index(Phase.EVALUATION) and rng.random() < 0.14
        moves: list[Move] = []
        for phase in ORDER[1 : stop + 1]:
            moves.append((phase, None, None))
            if phase is Phase.RISK and risk_return:
                moves += [(Phase.ASSESSMENT, rng.choice(RETURN_TO_ASSESSMENT), None), (Phase.RISK, None, None)]
            if phase is Phase.FOLLOW_UP and follow_up_return:
                moves += [(Phase.PLANNING, rng.choice(RETURN_TO_PLANNING), None), (Phase.IMPLEMENTATION, None, None),
                          (Phase.FOLLOW_UP, None, None)]  # fmt: skip
        if closing:
            moves.append((Phase.CLOSED, None, rng.choice(OUTCOMES[case_type])))
            if rng.random() < 0.06:
                moves.append((rng.choice([Phase.ASSESSMENT, Phase.PLANNING]), rng.choice(REOPEN_REASONS), None))
        return moves

    def note(self, key: uuid.UUID, actor: Principal, body: str, shared: bool = False) -> None:
        visibility = NoteVisibility.SHARED if shared else NoteVisibility.INTERNAL
        self.call(notes.add_note, self.db, actor, key, NoteCreate(body=body, visibility=visibility))

    def communicate(self, key: uuid.UUID, actor: Principal, party: uuid.UUID, at: dt.datetime, direction: Direction,
                    subject: str, body: str) -> None:  # fmt: skip
        channel = self.rng.choice(INBOUND_CHANNELS if direction is Direction.INBOUND else [Channel.EMAIL, Channel.PHONE, Channel.LETTER])
        cmd = CommunicationCreate(channel=channel, direction=direction, subject=subject, body=body, occurred_at=min(at, self.now),
                                  party_id=party)  # fmt: skip
        self.call(notes.add_communication, self.db, actor, key, cmd)

    def share_with_third_party(self, key: uuid.UUID, handler: Principal, goal: uuid.UUID, opened: dt.datetime) -> uuid.UUID | None:
        """Share a dispute with the external investigator and give them a task; returns the task."""
        if self.third_party is None:
            return None
        share = ShareCreate(user_id=self.third_party.user_id, parts=[SharePart.TASKS, SharePart.NOTES])
        self.call(sharing.share_case, self.db, handler, key, share)
        due = (opened + dt.timedelta(days=10)).date()
        task = TaskCreate(title=self.rng.choice(THIRD_PARTY_TASKS), assignee_id=self.third_party.user_id, due_date=due)
        task_id: uuid.UUID = self.call(plans.add_task, self.db, handler, key, goal, task).id
        self.note(key, handler, "We have asked Kestrel Investigations to review the transaction evidence.", shared=True)
        self.shared_once = True
        return task_id

    def one_case(self, index: int, opened: dt.datetime) -> None:
        rng = self.rng
        case_type = rng.choices(list(TYPE_WEIGHTS), weights=list(TYPE_WEIGHTS.values()))[0]
        spec = GENERATORS[case_type](rng, opened)
        customer, customer_account = self.customer_for(index, spec)
        age_days = (self.midnight - opened).total_seconds() / 86400
        weights = _phase_weights(age_days)
        target = rng.choices(list(weights), weights=list(weights.values()))[0]
        team = TEAMS[case_type]
        handler = rng.choice(self.handlers[team])
        assigned = target not in ("screening", "screened_out") or rng.random() < 0.4
        extra = rng.choice(["", "", " Customer asked to be contacted by email.", " Customer prefers a call after 5pm.",
                            " Customer has been with the bank for over 20 years.", " Second contact about this issue."])  # fmt: skip
        view = self.call(
            cases.create_case,
            self.db,
            handler,
            CaseCreate(
                case_type=CaseTypeKey(case_type),
                title=spec.title,
                description=spec.description + extra,
                priority=spec.priority,
                risk_score=spec.risk,
                assignee_id=handler.user_id if assigned else None,
                team=team,
                customer_party_id=customer,
                custom_data=spec.custom_data,
                due_date=(opened + dt.timedelta(days=SLA_DAYS[spec.priority])).date(),
            ),
            opened_at=opened,
        )
        key = view.id
        self.report.cases += 1
        self.report.by_type[case_type] += 1
        if rng.random() < 0.55:
            self.communicate(key, handler, customer, opened + dt.timedelta(minutes=rng.randint(1, 90)), Direction.INBOUND,
                             spec.title, spec.description)  # fmt: skip
        if rng.random() < 0.25:
            self.note(key, handler, rng.choice(INTERNAL_NOTES))
        if spec.merchant and rng.random() < 0.3:
            link = CasePartyLink(party_id=self.merchant(spec.merchant), role=PartyRole.THIRD_PARTY)
            self.call(parties.link_party, self.db, handler, key, link)

        tasks: list[uuid.UUID] = []
        goal: uuid.UUID | None = None
        outside_task: uuid.UUID | None = None
        seen: set[Phase] = {Phase.SCREENING}
        phase = Phase.SCREENING
        for to_phase, reason, outcome in self.moves(target, case_type):
            returning = Phase.CLOSED not in (phase, to_phase) and ORDER.index(to_phase) < ORDER.index(phase)
            self.call(
                lifecycle.transition_case, self.db, handler, key, TransitionRequest(to_phase=to_phase, reason=reason, outcome=outcome)
            )
            first_time = to_phase not in seen
            seen.add(to_phase)
            previous, phase = phase, to_phase
            if to_phase is Phase.ASSESSMENT and first_time and customer_account is not None and rng.random() < 0.6:
                self.note(key, customer_account, rng.choice(CUSTOMER_NOTES), shared=True)
            elif to_phase is Phase.ASSESSMENT and first_time and rng.random() < 0.35:
                self.note(key, handler, rng.choice(INTERNAL_NOTES))
            elif to_phase is Phase.RISK and first_time and spec.risk >= 60 and rng.random() < 0.6:
                self.note(key, handler, rng.choice(RISK_NOTES))
            elif to_phase is Phase.PLANNING and first_time:
                goal_title, task_titles = PLAN[case_type][1 if spec.risk >= 60 else 0]
                goal = self.call(plans.add_goal, self.db, handler, key, GoalCreate(title=goal_title)).id
                count = 3 if rng.random() < 0.3 else 2
                for i, title in enumerate(task_titles[:count]):
                    due = (opened + dt.timedelta(days=SLA_DAYS[spec.priority] + 3 * i)).date()
                    task = TaskCreate(title=title, assignee_id=handler.user_id, due_date=due)
                    tasks.append(self.call(plans.add_task, self.db, handler, key, goal, task).id)
                if case_type == "disputed_transaction" and (not self.shared_once or rng.random() < 0.2):
                    outside_task = self.share_with_third_party(key, handler, goal, opened)
            elif to_phase is Phase.PLANNING and returning and goal is not None and rng.random() < 0.6:
                task = TaskCreate(title="Agree the next action with the customer", assignee_id=handler.user_id)
                tasks.append(self.call(plans.add_task, self.db, handler, key, goal, task).id)
            elif to_phase is Phase.IMPLEMENTATION and first_time and rng.random() < 0.4:
                self.communicate(key, handler, customer, opened + dt.timedelta(hours=rng.randint(4, 72)), Direction.OUTBOUND,
                                 f"Update on your case {view.reference}", rng.choice(SHARED_NOTES[:3]))  # fmt: skip
            elif to_phase is Phase.FOLLOW_UP and first_time and tasks:
                self.call(plans.update_task, self.db, handler, key, tasks[0], TaskUpdate(status=TaskStatus.DONE))
                if outside_task is not None and self.third_party is not None:
                    # The investigator closes their own task (third parties may change only its status).
                    done = TaskUpdate(status=TaskStatus.DONE)
                    self.call(plans.update_task, self.db, self.third_party, key, outside_task, done)
                if rng.random() < 0.3:
                    self.note(key, handler, SHARED_NOTES[2], shared=True)
            elif to_phase is Phase.EVALUATION and first_time and len(tasks) > 1:
                self.call(plans.update_task, self.db, handler, key, tasks[1], TaskUpdate(status=TaskStatus.DONE))
            elif to_phase is Phase.CLOSED and previous is Phase.EVALUATION:
                if goal is not None and rng.random() < 0.5:
                    self.call(plans.update_goal, self.db, handler, key, goal, GoalUpdate(status=GoalStatus.ACHIEVED))
                if rng.random() < 0.4:
                    self.note(key, handler, f"Outcome: {outcome}. " + SHARED_NOTES[3], shared=True)
        self.report.by_phase[phase.value] += 1


def load_demo(
    db: Database,
    who: Principal,
    *,
    cases: int = 300,
    seed: int = 42,
    now: dt.datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> DemoReport:
    """Create ``cases`` demo cases, plus the demo accounts and customers.

    ``who`` sets things up (accounts, parties) and must be an administrator, normally the system
    principal; the cases themselves are worked by the demo case workers and supervisors of the team
    that handles each case type. ``progress`` is told after each case.
    """
    started = time.perf_counter()
    now = now or dt.datetime.now(dt.UTC)
    rng = random.Random(seed)
    report = DemoReport()
    loader = _Loader(db, who, rng, now, report)
    loader.ensure_accounts()
    loader.plan_customer_cases(cases)
    # Cases open on the days before today, more of them recently (the service is growing), mostly in
    # working hours; ages count from midnight so the data set depends on the seed and the date only.
    # Cases are created in date order so that references grow with the opening date.
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    openings = []
    for _ in range(cases):
        days_ago = 1 + int((HISTORY_DAYS - 1) * rng.random() ** 1.5)
        hour = rng.choice([8, 9, 9, 10, 10, 11, 12, 13, 14, 14, 15, 16, 17, 19, 22])
        time_of_day = dt.timedelta(hours=hour, minutes=rng.randint(0, 59), seconds=rng.randint(0, 59))
        openings.append(midnight - dt.timedelta(days=days_ago) + time_of_day)
    for index, opened in enumerate(sorted(openings)):
        loader.one_case(index, opened)
        if progress is not None:
            progress(1)
    report.seconds = time.perf_counter() - started
    return report
