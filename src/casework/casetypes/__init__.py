"""Case types. Until declarative YAML definitions land, the four seed kinds are listed here."""

from __future__ import annotations

SEED_CASE_TYPES: dict[str, str] = {
    "complaint": "Customer complaint",
    "support_ticket": "Support ticket",
    "onboarding": "Customer onboarding (KYC)",
    "disputed_transaction": "Disputed or fraudulent transaction",
}
