"""What the demo data set says: names, places, the scenarios of each case type, and the cases they make.

:mod:`casework.demo` loads the cases through the services; this module only decides their
content. Each scenario row carries what the case type's fields and questionnaire need (the kind
of transaction, the product complained about, the answers a customer would give), and the
``make_*`` functions turn a row into a :class:`CaseSpec` with custom fields that satisfy the
type's schema, so the decision tables see realistic inputs: an unauthorised transfer that
emptied a savings account scores as a P1, a duplicate card charge as a P4.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from casework.domain.lifecycle import Priority
from casework.services.schemas import Channel

# ---------------------------------------------------------------- people and places

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
#: Business customers and the industry the onboarding type asks for.
ORGANISATIONS: list[tuple[str, str]] = [
    ("Harbour Lane Bakery Ltd", "retail"), ("Pennine Joinery Ltd", "other"), ("Brightwater Dental Practice", "other"),
    ("Kestrel Logistics Ltd", "other"), ("Oakfield Veterinary Surgery", "other"), ("Copperleaf Design Studio", "technology"),
    ("Riverside Community Trust", "charity"), ("Atlas Print & Sign Ltd", "retail"), ("Greenway Landscaping", "other"),
    ("Northgate Plumbing Services", "other"), ("Blue Heron Café", "retail"), ("Marlow & Finch Solicitors", "other"),
    ("Summit Fitness Ltd", "other"), ("Lantern Tech Consulting", "technology"), ("Fenwick Farm Shop", "retail"),
    ("Silverline Taxis Ltd", "other"), ("Castlegate Lettings Ltd", "real_estate"), ("Lucky Seven Bingo Ltd", "gambling"),
    ("Ledgerleaf Digital Assets Ltd", "crypto_assets"), ("Redbrick Property Partners", "real_estate"),
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
CURRENCIES = ["GBP"] * 6 + ["EUR"] * 3 + ["USD"]
#: Nationalities of personal applicants (ISO 3166 alpha-2), mostly British.
NATIONALITIES = ["GB"] * 14 + ["IE", "PL", "PL", "IN", "FR", "ES", "PT", "IT", "RO", "NG", "DE", "NL"]
#: The customer's language when it is not English (the case types know en, fr, es, nl, pl).
LANGUAGES = ["pl", "pl", "fr", "es", "nl"]
COUNTRY_NAMES = {"FR": "France", "ES": "Spain", "IE": "Ireland", "PL": "Poland", "NL": "the Netherlands", "DE": "Germany",
                 "NG": "Nigeria", "ZA": "South Africa", "IR": "Iran", "SY": "Syria", "CU": "Cuba", "IN": "India"}  # fmt: skip

# ---------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class DisputeScenario:
    """A disputed payment. ``{m}`` is the merchant, ``{amt}`` the amount, ``{when}`` the transaction date."""

    title: str
    text: str
    amounts: tuple[float, float]
    kind: str  # fields.transaction_kind
    fraud: bool  # fraud suspected at intake: sets the intake priority
    recognises: str  # answers.dispute_details.recognises
    accounts: tuple[str, ...] = ("current",)
    card_kept: bool = True  # answers.card_in_possession (card payments)
    emptied: bool = False  # nothing was left on the account afterwards
    scam: str | None = None  # how a fraudster made contact, when one did
    shared_credentials: bool = False
    late: bool = False  # reported more than 13 months after the payment


DISPUTES = [
    DisputeScenario("Card charged twice at {m}", "The customer was charged twice for a single purchase of {amt} at {m}; both "
                    "transactions have settled.", (50, 450), "card_charge", False, "merchant_but_not_amount",
                    ("current", "credit_card")),
    DisputeScenario("Unrecognised card payment at {m}", "Customer does not recognise a payment of {amt} to {m} and still holds "
                    "the card. Possible card-not-present fraud.", (50, 2600), "online_purchase", True, "not_at_all",
                    ("current", "credit_card")),
    DisputeScenario("Unauthorised transfer emptied savings account", "A faster payment of {amt} left the customer's savings "
                    "account to a new payee overnight. Customer denies making or authorising it; online banking session came "
                    "from an unfamiliar device.", (6000, 48000), "unauthorised_transfer", True, "not_at_all", ("savings",),
                    emptied=True),
    DisputeScenario("Goods not received from {m}", "Order paid on {when} for {amt} was never delivered; {m} has stopped "
                    "replying to the customer's emails.", (50, 1500), "online_purchase", False, "paid_but_not_received",
                    ("current", "credit_card")),
    DisputeScenario("Refund from {m} not credited", "{m} confirmed a refund of {amt} three weeks ago but it has not reached "
                    "the account.", (50, 900), "card_charge", False, "paid_but_not_received", ("current", "credit_card")),
    DisputeScenario("ATM did not dispense cash", "The ATM debited {amt} but dispensed no cash. Customer has the receipt.",
                    (20, 500), "atm_withdrawal", False, "paid_but_not_received"),
    DisputeScenario("Subscription still charged after cancellation ({m})", "Customer cancelled the {m} subscription but was "
                    "charged {amt} again on {when}.", (50, 180), "card_charge", False, "cancelled_subscription",
                    ("current", "credit_card")),
    DisputeScenario("Card used abroad while in customer's possession", "Several contactless and chip payments totalling {amt} "
                    "were made abroad while the customer was at home with the card. Suspected cloned card.", (250, 7000),
                    "card_charge", True, "not_at_all", ("current", "credit_card")),
    DisputeScenario("Invoice redirection scam: payment to fraudster", "Customer paid a supplier invoice of {amt} after "
                    "receiving an email with new bank details; the supplier never received the money (authorised push "
                    "payment scam).", (2500, 35000), "unauthorised_transfer", True, "paid_but_not_received",
                    scam="Email from a look-alike of the supplier's address announcing new bank details"),
    DisputeScenario("Direct debit taken without mandate by {m}", "A direct debit of {amt} was collected by {m}; the customer "
                    "never signed a mandate.", (10, 300), "direct_debit", False, "not_at_all"),
    DisputeScenario("Contactless payments after card reported lost", "Card was reported lost at 09:12 but contactless payments "
                    "of {amt} in total went through afterwards.", (50, 400), "card_charge", True, "not_at_all", card_kept=False),
    DisputeScenario("Price charged by {m} differs from agreed amount", "Customer agreed a price with {m} but was charged {amt}.",
                    (50, 3000), "card_charge", False, "merchant_but_not_amount", ("current", "credit_card")),
    DisputeScenario("Safe-account scam: savings moved after a call from 'the bank'", "After a caller claiming to be from our "
                    "fraud team read out recent transactions, the customer moved {amt} from savings to a 'safe account' and "
                    "read out a one-time passcode.", (1500, 25000), "unauthorised_transfer", True, "not_at_all", ("savings",),
                    emptied=True, shared_credentials=True,
                    scam="Call from a spoofed number showing the bank's name; the caller said he was from the fraud team"),
]  # fmt: skip
#: Disputes the automatic screening closes at once: small card charges are refunded, late reports are out of time.
DISPUTE_SCREEN_OUTS = [
    DisputeScenario("Small card charge disputed at {m}", "Customer does not recognise a card payment of {amt} to {m}.",
                    (2, 45), "card_charge", False, "not_at_all", ("current", "credit_card")),
    DisputeScenario("Online order from {m} charged but cancelled", "Customer cancelled an order from {m} within minutes but "
                    "was charged {amt}.", (3, 40), "online_purchase", False, "merchant_but_not_amount"),
    DisputeScenario("Payment made over a year ago disputed", "Going through old statements, the customer found a payment of "
                    "{amt} to {m} on {when} that they do not recognise.", (20, 800), "card_charge", False, "not_at_all",
                    late=True),
]  # fmt: skip


@dataclass(frozen=True)
class ComplaintScenario:
    """A complaint; ``{b}`` is a branch."""

    title: str
    text: str
    product: str  # fields.product
    priority: Priority  # intake priority; the risk table has the last word
    wants: str  # answers.complaint_details.preferred_resolution
    claim: tuple[float, float] | None = None  # money the customer may claim
    vulnerable: bool = False
    repeat: bool = False
    ombudsman: float = 0.08  # chance the customer mentions the ombudsman or the regulator
    nature: str = "complaint"


P1, P2, P3, P4 = Priority.P1, Priority.P2, Priority.P3, Priority.P4
COMPLAINTS = [
    ComplaintScenario("Poor service at {b} branch", "Customer waited over an hour at the {b} branch and was then told to come "
                      "back another day.", "current_account", P4, "apology"),
    ComplaintScenario("Overdraft charges applied without notice", "Customer was charged overdraft fees for three months without "
                      "any alert and asks for them to be refunded.", "current_account", P3, "refund", (40, 600)),
    ComplaintScenario("Mortgage payment holiday request ignored", "Request for a payment holiday after a job loss was sent "
                      "twice and never answered; arrears are now building.", "mortgage", P2, "correction", (100, 2500),
                      vulnerable=True, ombudsman=0.2),
    ComplaintScenario("Complaint about rude call-centre agent", "Customer says the agent was dismissive and ended the call "
                      "abruptly.", "current_account", P4, "apology"),
    ComplaintScenario("Account closed without explanation", "Customer's current account was closed with 7 days' notice and no "
                      "reason given; salary payment is now bouncing.", "current_account", P2, "explanation", (50, 400),
                      ombudsman=0.2),
    ComplaintScenario("Delay releasing funds from late father's account", "Bereavement documents were provided six weeks ago "
                      "and the estate funds are still frozen. Customer is distressed.", "current_account", P2, "correction",
                      vulnerable=True),
    ComplaintScenario("Savings rate cut without notification", "The interest rate on the easy-access saver was reduced without "
                      "the promised notice.", "savings_account", P3, "compensation", (20, 300)),
    ComplaintScenario("Letter sent to wrong address: data breach concern", "A statement with the customer's account details was "
                      "delivered to a neighbour. Possible personal data breach to be assessed.", "current_account", P1,
                      "explanation", (250, 2000), ombudsman=0.35),
    ComplaintScenario("Branch closure leaves elderly customer without access", "The customer's local branch closed and they "
                      "cannot use online banking; relative complains on their behalf.", "current_account", P3, "other",
                      vulnerable=True),
    ComplaintScenario("Address change not applied after three requests", "Customer asked three times to update the address; "
                      "letters still go to the old one.", "current_account", P3, "correction", repeat=True),
    ComplaintScenario("Charged for a replacement card never requested", "A replacement card fee was charged though the customer "
                      "never ordered one.", "current_account", P4, "refund", (5, 15)),
    ComplaintScenario("Loan decision took eight weeks", "The personal loan decision took eight weeks, so the customer lost the car "
                      "they meant to buy.", "loan", P3, "compensation", (200, 3000)),
    ComplaintScenario("Previous complaint handled badly", "Customer is unhappy with how complaint handling went last time: no "
                      "call-back and a generic final response.", "other", P3, "explanation", repeat=True, ombudsman=0.3),
    ComplaintScenario("Misleading information about fixed-rate bond", "Customer was told they could withdraw early without "
                      "penalty; a penalty was applied.", "savings_account", P2, "refund", (300, 4000)),
    ComplaintScenario("Credit card interest charged after balance paid in full", "Interest was charged on the credit card "
                      "although the statement balance was paid in full by direct debit.", "credit_card", P3, "refund", (20, 250)),
    ComplaintScenario("Travel insurance claim refused without explanation", "The claim for a cancelled holiday under the "
                      "packaged account's travel insurance was refused in a one-line letter.", "insurance", P3, "explanation",
                      (400, 6000)),
    ComplaintScenario("Online banking unavailable on salary day", "Online banking was down for most of the day; the customer "
                      "could not pay the rent on time and was charged a late fee.", "online_banking", P3, "compensation", (10, 60)),
    ComplaintScenario("Investment losses blamed on advice", "Customer says the adviser recommended a high-risk fund despite a "
                      "cautious profile; the fund has since lost a third of its value.", "other", P2, "compensation",
                      (12000, 60000), ombudsman=0.4),
]  # fmt: skip
#: Contacts that screening recommends closing at once: feedback is thanked and logged, simple enquiries answered.
COMPLAINT_SCREEN_OUTS = [
    ComplaintScenario("Feedback: the new app layout is confusing", "Customer finds the redesigned app hard to navigate and "
                      "wanted us to know.", "online_banking", P4, "other", nature="feedback"),
    ComplaintScenario("Praise for the {b} branch team", "Customer wrote in to thank the {b} staff for their help with a "
                      "bereavement.", "current_account", P4, "other", nature="feedback"),
    ComplaintScenario("Question about the overdraft fee schedule", "Customer asks how the daily overdraft fee is worked out.",
                      "current_account", P4, "explanation", nature="enquiry"),
    ComplaintScenario("Enquiry about closing a savings account", "Customer asks whether closing the easy-access saver affects "
                      "the linked current account.", "savings_account", P4, "explanation", nature="enquiry"),
]  # fmt: skip


@dataclass(frozen=True)
class TicketScenario:
    """A support request; ``{d}`` is the device, ``{v}`` the app version."""

    title: str
    text: str
    area: str  # fields.product_area
    priority: Priority
    error_code: str | None = None
    steps: str = ""  # how we reproduce it (empty: it does not reproduce in general)
    workaround: str | None = None
    affected: tuple[int, int] | None = None  # customers affected, when known
    outage: bool = False
    kind: str = "problem"


TICKETS = [
    TicketScenario("Cannot log in to mobile app", "Login fails with 'Something went wrong (E-401)' on {d}, app {v}. Password "
                   "reset did not help.", "account_access", P3, "E-401", "Sign in with app {v} on {d} right after a password "
                   "reset", "Sign in to online banking in a browser meanwhile"),
    TicketScenario("One-time passcode SMS not received", "Customer never receives the OTP text when approving online payments; "
                   "phone number on file is correct.", "account_access", P3,
                   workaround="Approve payments in the mobile app instead of by text message"),
    TicketScenario("Card declined online despite available funds", "Online card payments are declined with code 05 although the "
                   "balance is sufficient.", "cards", P3, "05", "Authorise a test payment on the customer's card in the card "
                   "management console", "Pay with the virtual card number shown in the app"),
    TicketScenario("Statement PDF download fails", "Downloading statements in online banking gives a blank page in {d}.",
                   "statements", P4, None, "Open Statements > Download PDF on {d}", "Export the statement as CSV or order a "
                   "paper copy"),
    TicketScenario("App crashes on startup after update to {v}", "Since updating to {v} the app closes immediately on {d}.",
                   "mobile_app", P3, None, "Install app {v} on {d} and open it", "Use online banking in a browser until the "
                   "fix is released", affected=(20, 180)),
    TicketScenario("Unable to add a new payee", "Adding a payee stops at the confirmation-of-payee step with a timeout.",
                   "payments", P3, "COP-TIMEOUT", "Add a payee with a business account number in the app",
                   "Add the payee in online banking"),
    TicketScenario("Push notifications not arriving", "Spending notifications stopped arriving on {d}.", "mobile_app", P4,
                   workaround="Check recent spending in the app's activity list"),
    TicketScenario("Biometric login stopped working", "Face/fingerprint login is rejected on {d} after the {v} update.",
                   "account_access", P4, None, "Enrol a fingerprint on {d} with app {v} and sign in",
                   "Sign in with the five-digit passcode"),
    TicketScenario("Online banking locked after failed attempts", "Customer is locked out after three failed password attempts "
                   "and needs access urgently to pay rent.", "account_access", P2, "LOCK-03"),
    TicketScenario("Request to change registered mobile number", "Customer has a new phone number and cannot receive passcodes "
                   "on the old one.", "other", P3),
    TicketScenario("Card cannot be added to mobile wallet", "Adding the debit card to the wallet on {d} fails with 'card not "
                   "supported'.", "cards", P4, "WALLET-102", "Add a debit card of the same range to the wallet on {d}"),
    TicketScenario("Standing order not visible in app", "A standing order set up in branch does not appear under scheduled "
                   "payments.", "payments", P4, None, "Set up a standing order in branch tools and open scheduled payments",
                   "View standing orders in online banking"),
    TicketScenario("Payments stuck as 'pending' for two days", "Several outgoing payments have shown as pending since the "
                   "weekend; customer worries they were sent twice.", "payments", P2, None, "", None, affected=(10, 60)),
    TicketScenario("Payments failing for many customers since this morning", "Faster payments from the app and online banking "
                   "fail with error PAY-503; the contact centre has had dozens of calls.", "payments", P1, "PAY-503",
                   "Send a faster payment from a test account", None, affected=(150, 2000), outage=True),
    TicketScenario("Online banking slow or timing out", "Pages take more than a minute to load and often time out; several "
                   "customers reported the same today.", "online_banking", P2, "GW-504", "Sign in to online banking and open "
                   "the account overview", "Use the mobile app meanwhile", affected=(15, 90), outage=True),
]  # fmt: skip
#: Requests that screening recommends closing at once: self-service answers and feature requests.
TICKET_SCREEN_OUTS = [
    TicketScenario("Forgotten online banking password", "Customer forgot the password; a reset link was sent during the call.",
                   "account_access", P4, kind="password_reset"),
    TicketScenario("How do I order a new PIN?", "Customer asks how to get a PIN reminder for a new debit card.", "cards", P4,
                   kind="question"),
    TicketScenario("Where can I find my IBAN?", "Customer needs the IBAN to receive a payment from abroad.", "online_banking", P4,
                   kind="question"),
    TicketScenario("Request: dark mode in the app", "Customer would like a dark theme in the mobile app.", "mobile_app", P4,
                   kind="feature_request"),
    TicketScenario("Request: export transactions to a spreadsheet", "Customer would like to download transactions as a "
                   "spreadsheet from the app.", "mobile_app", P4, kind="feature_request"),
]  # fmt: skip


@dataclass(frozen=True)
class ApplicationScenario:
    """An onboarding request; ``{o}`` is the organisation, ``{n}`` a small number, ``{country}`` the country of residence."""

    title: str
    text: str
    priority: Priority
    organisation: bool = False
    purpose: str = "everyday_banking"  # answers.kyc.purpose_of_account
    funds: tuple[str, ...] = ("salary", "salary", "pension", "savings")  # answers.kyc.source_of_funds
    pep: bool = False
    residence: tuple[str, ...] = ("GB",)
    volume: tuple[int, int] = (500, 5000)  # expected monthly volume
    born: tuple[int, int] = (1945, 2004)
    international: float = 0.15  # chance the customer expects international transfers
    channels: tuple[str, ...] = ("branch", "web", "app", "app")


APPLICATIONS = [
    ApplicationScenario("KYC: passport expired for new account", "The passport supplied with the application expired {n} months "
                        "ago; a valid identity document is needed.", P3),
    ApplicationScenario("KYC: proof of address older than three months", "Utility bill supplied is dated {n} months ago.", P4),
    ApplicationScenario("New business account for {o}", "Business current account application for {o}; certificate of "
                        "incorporation received, director ID pending.", P3, organisation=True, purpose="business_operations",
                        funds=("business_income",), volume=(5000, 80000), international=0.3, channels=("branch", "web", "partner")),
    ApplicationScenario("Sanctions screening potential match", "Applicant's name and date of birth partially match an entry on "
                        "the consolidated sanctions list; account opening is on hold.", P1, international=0.6),
    ApplicationScenario("PEP declaration needs enhanced due diligence", "Applicant declared a close family member holds public "
                        "office; enhanced due diligence and senior sign-off required.", P2, purpose="savings",
                        funds=("salary", "investments", "inheritance"), pep=True, volume=(3000, 30000)),
    ApplicationScenario("Joint account: second applicant ID missing", "Joint application received but only the first applicant "
                        "has completed identity verification.", P4),
    ApplicationScenario("Source of funds for large initial deposit", "Applicant intends to deposit about {n}0,000 GBP from a "
                        "property sale; evidence of source of funds requested.", P2, purpose="savings",
                        funds=("sale_of_property",), volume=(1000, 8000)),
    ApplicationScenario("Student account: university letter needed", "Student account application needs proof of enrolment.", P4,
                        funds=("other",), volume=(200, 1500), born=(2003, 2007), channels=("app", "web")),
    ApplicationScenario("Name mismatch between ID and application", "Surname on the driving licence differs from the application "
                        "(recent marriage); marriage certificate requested.", P3),
    ApplicationScenario("Tax residency self-certification missing", "Applicant living in {country} has not completed the "
                        "CRS/FATCA self-certification.", P3, purpose="savings", residence=("FR", "ES", "IE", "PL", "NL", "DE"),
                        international=0.9, channels=("web", "app")),
    ApplicationScenario("Beneficial owner details incomplete for {o}", "Ownership structure of {o} shows a holding company; "
                        "ultimate beneficial owners above 25% still to be identified.", P2, organisation=True,
                        purpose="business_operations", funds=("business_income", "investments"), volume=(20000, 150000),
                        international=0.5, channels=("branch", "partner")),
    ApplicationScenario("Video identification failed: poor image quality", "Automated video ID could not read the document; the "
                        "applicant must retry or visit a branch.", P4, channels=("app",)),
    ApplicationScenario("Applicant living in {country}: enhanced checks", "Applicant resident in {country} wants a sterling "
                        "account for family support payments; the country is on the high-risk list.", P2,
                        residence=("NG", "ZA"), international=0.95, channels=("web", "app")),
]  # fmt: skip
#: Requests the automatic screening refuses at once: residents of comprehensively sanctioned countries.
APPLICATION_SCREEN_OUTS = [
    ApplicationScenario("Application from a resident of {country}", "Online application with an address in {country}; the "
                        "country is under comprehensive sanctions.", P3, residence=("IR", "SY", "CU"), channels=("web",)),
]  # fmt: skip

#: Texts the generators use for answers.
FUNDS_DETAILS = {
    "inheritance": "Inheritance from a grandparent's estate; the solicitor's letter is on file",
    "sale_of_property": "Sale of a flat in {town}; the completion statement from the solicitor was provided",
    "other": "Student loan and part-time work in a café",
    "salary": "Salary as a senior civil servant, about 6,000 GBP a month",
    "investments": "Dividends from a share portfolio held with another bank",
    "pension": "Occupational pension, paid monthly",
    "savings": "Savings built up over twenty years",
    "business_income": "Trading income of the business",
}
PEP_POSITIONS = [
    "Brother is a member of the Scottish Parliament",
    "Mother is a serving High Court judge",
    "Applicant was a city council leader until last year",
    "Spouse is an ambassador of a Commonwealth country",
]
OWNERS = [
    "Two directors hold 50% each",
    "The founder holds 70%; an investment company holds 30%",
    "Held 100% by a holding company owned by three family members (one third each)",
]
TRANSFER_COUNTRIES = ["Ireland and Spain", "Poland", "India", "Nigeria", "France and Germany", "United States", "South Africa"]
POLICE_PREFIX = "NFRC"

# ---------------------------------------------------------------- from a scenario to a case


CARD_KINDS = ("card_charge", "atm_withdrawal", "online_purchase")  # the dispute questions about the card apply


@dataclass
class CaseSpec:
    case_type: str
    title: str
    description: str
    priority: Priority  # the intake priority; the risk table sets the working one
    custom_data: dict[str, Any]
    #: What the customer tells the handler: answers by questionnaire, in question order.
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    organisation: str | None = None  # the customer is this organisation
    merchant: str | None = None
    born: tuple[int, int] | None = None  # years a personal applicant is born between


def _money(rng: random.Random, low: float, high: float) -> float:
    # Round amounts the way people pay: mostly pounds and pence, big ones to the pound.
    value = rng.uniform(low, high)
    return float(round(value)) if value > 1000 else round(value, 2)


def _language(rng: random.Random, data: dict[str, Any]) -> None:
    if rng.random() < 0.07:
        data["language"] = rng.choice(LANGUAGES)


def make_dispute(rng: random.Random, opened: dt.datetime, screen_out: bool) -> CaseSpec:
    s = rng.choice(DISPUTE_SCREEN_OUTS if screen_out else DISPUTES)
    merchant = rng.choice(MERCHANTS)
    currency = rng.choice(CURRENCIES) if s.kind in CARD_KINDS and s.kind != "atm_withdrawal" else "GBP"
    amount = _money(rng, *s.amounts)
    # Fraud is reported at once; other disputes within weeks; "late" ones after the 13 months the scheme allows.
    soon = rng.choice([0, 0, 1, 1, 2, 3]) if s.fraud else rng.randint(1, 40)
    reported = rng.randint(400, 700) if s.late else soon
    when = opened.date() - dt.timedelta(days=reported)
    account = rng.choice(s.accounts)
    data: dict[str, Any] = {
        "transaction_kind": s.kind,
        "amount": amount,
        "currency": currency,
        "account_type": account,
        "transaction_date": when.isoformat(),
        "reported_within_days": reported,
        "customer_years": round(rng.uniform(0.1, 0.9), 1) if rng.random() < 0.12 else rng.randint(1, 35),
        "channel": rng.choice(["phone", "phone", "app", "web", "branch", "email"]),
    }
    if s.emptied:
        data["balance_after"] = 0.0 if account == "savings" else -_money(rng, 1, 250)
    elif rng.random() < 0.6:
        data["balance_after"] = _money(rng, 20, 9000)
    uses_merchant = "{m}" in s.title or "{m}" in s.text
    if uses_merchant:
        data["merchant"] = merchant
    elif s.kind == "unauthorised_transfer":
        data["merchant"] = f"{rng.choice(FIRST_NAMES)[0]}. {rng.choice(LAST_NAMES)} (new payee)"
    _language(rng, data)

    if s.fraud and amount >= 5000:
        priority = Priority.P1
    elif s.fraud and amount >= 1000:
        priority = Priority.P2
    elif s.fraud:
        priority = rng.choice([Priority.P2, Priority.P3])
    elif amount >= 1000:
        priority = Priority.P3
    else:
        priority = rng.choice([Priority.P3, Priority.P3, Priority.P4])

    given: dict[str, Any] = {"recognises": s.recognises}
    if s.kind in CARD_KINDS:
        given["card_in_possession"] = s.card_kept
    given["shared_credentials"] = s.shared_credentials
    given["contacted_by_fraudster"] = s.scam is not None
    if s.scam:
        given["fraudster_contact"] = s.scam
    if s.fraud:
        filed = rng.random() < 0.6
        given["police_report_filed"] = filed
        if filed:
            given["police_report_reference"] = f"{POLICE_PREFIX}{opened:%y%m}{rng.randint(0, 999999):06d}"
    amt = f"{amount:,.2f} {currency}"
    return CaseSpec(
        "disputed_transaction",
        s.title.format(m=merchant),
        s.text.format(m=merchant, amt=amt, when=when.isoformat()),
        priority,
        data,
        {"dispute_details": given},
        organisation=rng.choice(ORGANISATIONS)[0] if rng.random() < 0.15 else None,
        merchant=merchant if uses_merchant else None,
    )


def make_complaint(rng: random.Random, opened: dt.datetime, screen_out: bool) -> CaseSpec:
    s = rng.choice(COMPLAINT_SCREEN_OUTS if screen_out else COMPLAINTS)
    branch = rng.choice(BRANCHES)
    channel = rng.choice(["phone", "email", "branch", "letter", "web"])
    data: dict[str, Any] = {"product": s.product, "channel": channel}
    if s.nature != "complaint" or rng.random() < 0.5:
        data["nature"] = s.nature
    if rng.random() < 0.7:
        data["incident_date"] = (opened.date() - dt.timedelta(days=rng.randint(1, 60))).isoformat()
    claimed = _money(rng, *s.claim) if s.claim and rng.random() < 0.75 else None
    if claimed is not None:
        data["amount_claimed"] = claimed
    vulnerable = s.vulnerable or rng.random() < 0.06
    if vulnerable or rng.random() < 0.3:
        data["vulnerable_customer"] = vulnerable
    if s.repeat:
        data["repeat_complaint"] = True
    _language(rng, data)
    text = s.text.format(b=branch)
    given: dict[str, Any] = {
        "what_happened": text,
        "raised_before": s.repeat or rng.random() < 0.12,
        "preferred_resolution": s.wants,
        "wants_compensation": claimed is not None,
    }
    if claimed is not None:
        given["compensation_amount"] = claimed
    given["regulator_contacted"] = rng.random() < s.ombudsman
    if rng.random() < 0.7:
        given["contact_preference"] = {"phone": "phone", "letter": "letter"}.get(channel, "email")
    priority = s.priority
    if given["regulator_contacted"] and priority in (Priority.P3, Priority.P4):
        priority = Priority.P2  # the intake handler raises it; the risk table decides later
    return CaseSpec("complaint", s.title.format(b=branch), text, priority, data, {"complaint_details": given},
                    organisation=rng.choice(ORGANISATIONS)[0] if rng.random() < 0.12 else None)  # fmt: skip


def make_ticket(rng: random.Random, opened: dt.datetime, screen_out: bool) -> CaseSpec:
    s = rng.choice(TICKET_SCREEN_OUTS if screen_out else TICKETS)
    names = {"d": rng.choice(DEVICES), "v": rng.choice(APP_VERSIONS)}
    data: dict[str, Any] = {
        "request_kind": s.kind,
        "product_area": s.area,
        "channel": rng.choice(["chat", "phone", "email", "web", "web", "branch"]),
    }
    severity = {Priority.P1: "critical", Priority.P2: "high", Priority.P3: "normal", Priority.P4: "low"}[s.priority]
    if severity != "normal" or rng.random() < 0.5:
        data["severity"] = severity
    if s.error_code:
        data["error_code"] = s.error_code
    if s.affected:
        data["customers_affected"] = rng.randint(*s.affected)
    if s.outage:
        data["suspected_outage"] = True
    _language(rng, data)
    if s.area in ("mobile_app", "account_access"):
        pool = ["restarted_app", "cleared_cache", "reinstalled_app", "other_device"]
    elif s.area in ("online_banking", "statements"):
        pool = ["cleared_cache", "other_browser", "other_device"]
    else:
        pool = ["restarted_app", "other_device"]
    tried = ["nothing"] if rng.random() < 0.15 else rng.sample(pool, k=rng.randint(1, min(3, len(pool))))
    reproducible = bool(s.steps) and rng.random() < 0.75
    given: dict[str, Any] = {"steps_tried": tried, "can_reproduce": reproducible}
    if reproducible:
        given["reproduction_steps"] = s.steps.format(**names)
    if rng.random() < 0.6:
        given["started_on"] = (opened.date() - dt.timedelta(days=rng.randint(0, 10))).isoformat()
    given["workaround_available"] = s.workaround is not None
    if s.workaround:
        given["workaround"] = s.workaround
    return CaseSpec("support_ticket", s.title.format(**names), s.text.format(**names), s.priority, data, {"troubleshooting": given})


def make_application(rng: random.Random, opened: dt.datetime, screen_out: bool) -> CaseSpec:
    s = rng.choice(APPLICATION_SCREEN_OUTS if screen_out else APPLICATIONS)
    org, industry = rng.choice(ORGANISATIONS)
    residence = rng.choice(s.residence)
    country = COUNTRY_NAMES.get(residence, residence)
    data: dict[str, Any] = {"customer_type": "organisation" if s.organisation else "person", "country_of_residence": residence}
    if s.organisation:
        data["nationality"] = residence  # the country of registration (the registration number comes with the party)
        data["industry"] = industry
    else:
        data["nationality"] = residence if residence != "GB" and rng.random() < 0.7 else rng.choice(NATIONALITIES)
    data["pep"] = s.pep
    data["expected_monthly_volume"] = float(round(rng.uniform(*s.volume), -2))
    data["channel"] = rng.choice(s.channels)
    _language(rng, data)
    funds = rng.choice(s.funds)
    given: dict[str, Any] = {"purpose_of_account": s.purpose, "source_of_funds": funds}
    if funds in ("other", "inheritance", "sale_of_property") or s.pep:
        given["source_of_funds_details"] = FUNDS_DETAILS[funds].format(town=rng.choice(TOWNS)[0])
    international = rng.random() < s.international
    given["expects_international_transfers"] = international
    if international:
        given["transfer_countries"] = country if residence != "GB" else rng.choice(TRANSFER_COUNTRIES)
    given["tax_resident_elsewhere"] = residence != "GB"
    if residence != "GB":
        given["tax_identification_number"] = f"{residence}{rng.randint(10**9, 10**10 - 1)}"
    if s.organisation:
        given["beneficial_owners"] = rng.choice(OWNERS)
    if s.pep:
        given["pep_position"] = rng.choice(PEP_POSITIONS)
    names = {"o": org, "n": rng.randint(2, 9), "country": country}
    return CaseSpec("onboarding", s.title.format(**names), s.text.format(**names), s.priority, data, {"kyc": given},
                    organisation=org if s.organisation else None, born=None if s.organisation else s.born)  # fmt: skip


#: Builds a case of each type; ``screen_out`` asks for one the screening table closes (or recommends closing) at once.
GENERATORS: dict[str, Callable[[random.Random, dt.datetime, bool], CaseSpec]] = {
    "complaint": make_complaint,
    "support_ticket": make_ticket,
    "onboarding": make_application,
    "disputed_transaction": make_dispute,
}


# ---------------------------------------------------------------- what happens on a case

TYPE_WEIGHTS = {"complaint": 30, "support_ticket": 30, "onboarding": 18, "disputed_transaction": 22}
SLA_DAYS = {Priority.P1: 2, Priority.P2: 5, Priority.P3: 14, Priority.P4: 30}

#: Goals the handler adds on top of the case type's plan templates: (standard, high risk).
EXTRA_GOALS: dict[str, tuple[tuple[str, list[str]], tuple[str, list[str]]]] = {
    "complaint": (
        ("Learn from the complaint", ["Share the root cause with the product team", "Check for similar complaints this year"]),
        ("Escalate to the complaints manager", ["Brief the complaints manager", "Agree the remedy with the team leader"]),
    ),
    "support_ticket": (
        ("Stop it happening again", ["Add the problem to the known-issues list", "Raise a defect with the app team"]),
        ("Keep affected customers informed", ["Post an update on the status page", "Call back the customers who reported it"]),
    ),
    "onboarding": (
        ("Complete customer due diligence", ["Request the missing documents", "Record the risk assessment"]),
        ("Decide on the application", ["Run enhanced due diligence checks", "Obtain senior sign-off"]),
    ),
    "disputed_transaction": (
        ("Review the merchant's response", ["Review the merchant response", "Apply temporary credit to the account"]),
        ("Contain the fraud", ["Report to Action Fraud", "Place enhanced monitoring on the account for 90 days"]),
    ),
}  # fmt: skip
#: Closing outcomes (each from the case type's list) with their weights.
OUTCOMES: dict[str, dict[str, int]] = {
    "complaint": {"upheld": 3, "partially_upheld": 2, "rejected": 3, "withdrawn": 1, "referred_to_ombudsman": 1},
    "support_ticket": {"resolved": 8, "workaround_provided": 3, "duplicate": 1, "no_response": 1, "escalated_to_it": 1, "wont_fix": 1},
    "onboarding": {"approved": 6, "approved_with_conditions": 2, "rejected": 1, "withdrawn": 1, "referred_to_compliance": 1},
    "disputed_transaction": {"refunded": 4, "chargeback_raised": 2, "partially_refunded": 1, "recalled": 1, "rejected": 2, "withdrawn": 1},
}
#: When a handler closes a contact at screening although the table recommended opening it: (action, reason).
SCREEN_OUT_OVERRIDES = [
    ("drop", "Duplicate of a case already open for this customer"),
    ("drop", "Customer withdrew the request during the first call"),
    ("fast_track", "Resolved at first contact; no case work needed"),
    ("fast_track", "Answered on the phone; customer satisfied"),
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
EXTRA_TEXT = ["", "", " Customer asked to be contacted by email.", " Customer prefers a call after 5pm.",
              " Customer has been with the bank for over 20 years.", " Second contact about this issue."]  # fmt: skip
