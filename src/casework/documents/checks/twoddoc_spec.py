"""2D-Doc reference tables: document types and data identifiers (perimeter ``01``, C40 format).

Taken from the ANTS "Spécifications techniques des codes à barres 2D-Doc" (v3.x), annexes
"Types de documents" and "Définition des données". Only the part needed by casework is here:
the general data (``01``-``0C``), proofs of address (``10``-``2D``), bank details (``30``-``35``),
tax notices (``40``-``4B``, ``4V``-``4Y``), payslips (``50``-``5C``) and identity / home address
(``60``-``6F``, ``6S``-``6Y``). A data identifier (DI) missing from :data:`DATA_IDENTIFIERS` cannot
be parsed strictly, because its length rules are unknown (see ``parse_2ddoc(strict=False)``).

Length rules, as in the specification: a DI whose ``min_len == max_len`` is *fixed length* and
has no terminator; every other DI is *variable length* and ends with ``<GS>`` (0x1D), with
``<RS>`` (0x1E) when the value was truncated to its maximum, or with the end of the message.
``max_len`` is ``None`` when the specification sets no upper bound.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DataIdentifier:
    """One data field of the message zone: its 2-character id, a stable key, the French label."""

    id: str
    key: str
    label: str
    min_len: int
    max_len: int | None

    @property
    def fixed(self) -> bool:
        return self.max_len is not None and self.min_len == self.max_len and self.min_len > 0


@dataclass(frozen=True)
class DocType:
    """A document type of perimeter ``01``: its code, official name and a casework category."""

    code: str
    name: str
    category: str


def _di(id_: str, key: str, label: str, min_len: int, max_len: int | None) -> DataIdentifier:
    return DataIdentifier(id_, key, label, min_len, max_len)


_TABLE: tuple[DataIdentifier, ...] = (
    # --- general data, any document type
    _di("01", "document_id", "Identifiant unique du document", 0, None),
    _di("02", "document_category", "Catégorie de document", 0, None),
    _di("03", "document_subcategory", "Sous-catégorie de document", 0, None),
    _di("04", "composing_application", "Application de composition", 0, None),
    _di("05", "composing_application_version", "Version de l'application de composition", 0, None),
    _di("06", "association_date", "Date de l'association entre le document et le code 2D-Doc", 6, 6),
    _di("07", "association_time", "Heure de l'association entre le document et le code 2D-Doc", 6, 6),
    _di("08", "expiry_date", "Date d'expiration du document", 4, 4),
    _di("09", "page_count", "Nombre de pages du document", 4, 4),
    _di("0A", "publisher", "Éditeur du 2D-Doc", 9, 9),
    _di("0B", "integrator", "Intégrateur du 2D-Doc", 9, 9),
    _di("0C", "document_url", "URL du document", 0, None),
    # --- proofs of address (types 00, 01, 02): beneficiary, invoice recipient, service point
    _di("10", "beneficiary_line1", "Ligne 1 de la norme adresse postale du bénéficiaire de la prestation", 0, 38),
    _di("11", "beneficiary_title", "Qualité et/ou titre de la personne bénéficiaire de la prestation", 0, 38),
    _di("12", "beneficiary_first_name", "Prénom de la personne bénéficiaire de la prestation", 0, 38),
    _di("13", "beneficiary_last_name", "Nom de la personne bénéficiaire de la prestation", 0, 38),
    _di("14", "recipient_line1", "Ligne 1 de la norme adresse postale du destinataire de la facture", 0, 38),
    _di("15", "recipient_title", "Qualité et/ou titre de la personne destinataire de la facture", 0, 38),
    _di("16", "recipient_first_name", "Prénom de la personne destinataire de la facture", 0, 38),
    _di("17", "recipient_last_name", "Nom de la personne destinataire de la facture", 0, 38),
    _di("18", "invoice_number", "Numéro de facture", 0, None),
    _di("19", "customer_number", "Numéro de client", 0, None),
    _di("1A", "contract_number", "Numéro du contrat", 0, None),
    _di("1B", "subscriber_id", "Identifiant du souscripteur du contrat", 0, None),
    _di("1C", "contract_start_date", "Date d'effet du contrat", 8, 8),
    _di("1D", "invoice_amount", "Montant TTC de la facture", 0, 16),
    _di("1E", "beneficiary_phone", "Numéro de téléphone du bénéficiaire de la prestation", 0, 30),
    _di("1F", "recipient_phone", "Numéro de téléphone du destinataire de la facture", 0, 30),
    _di("1G", "co_beneficiary_present", "Présence d'un co-bénéficiaire de la prestation non mentionné dans le code", 1, 1),
    _di("1H", "co_recipient_present", "Présence d'un co-destinataire de la facture non mentionné dans le code", 1, 1),
    _di("1I", "co_beneficiary_line1", "Ligne 1 de la norme adresse postale du co-bénéficiaire de la prestation", 0, 38),
    _di("1J", "co_beneficiary_title", "Qualité et/ou titre du co-bénéficiaire de la prestation", 0, 38),
    _di("1K", "co_beneficiary_first_name", "Prénom du co-bénéficiaire de la prestation", 0, 38),
    _di("1L", "co_beneficiary_last_name", "Nom du co-bénéficiaire de la prestation", 0, 38),
    _di("1M", "co_recipient_line1", "Ligne 1 de la norme adresse postale du co-destinataire de la facture", 0, 38),
    _di("1N", "co_recipient_title", "Qualité et/ou titre du co-destinataire de la facture", 0, 38),
    _di("1O", "co_recipient_first_name", "Prénom du co-destinataire de la facture", 0, 38),
    _di("1P", "co_recipient_last_name", "Nom du co-destinataire de la facture", 0, 38),
    _di("20", "service_address_line2", "Ligne 2 de la norme adresse postale du point de service des prestations", 0, 38),
    _di("21", "service_address_line3", "Ligne 3 de la norme adresse postale du point de service des prestations", 0, 38),
    _di("22", "service_address_line4", "Ligne 4 (numéro, type et nom de la voie) du point de service des prestations", 0, 38),
    _di("23", "service_address_line5", "Ligne 5 de la norme adresse postale du point de service des prestations", 0, 38),
    _di("24", "service_postcode", "Code postal ou code cedex du point de service des prestations", 5, 5),
    _di("25", "service_city", "Localité de destination ou libellé cedex du point de service des prestations", 0, 32),
    _di("26", "service_country", "Pays du point de service des prestations (ISO 3166-1 alpha-2)", 2, 2),
    _di("27", "recipient_address_line2", "Ligne 2 de la norme adresse postale du destinataire de la facture", 0, 38),
    _di("28", "recipient_address_line3", "Ligne 3 de la norme adresse postale du destinataire de la facture", 0, 38),
    _di("29", "recipient_address_line4", "Ligne 4 de la norme adresse postale du destinataire de la facture", 0, 38),
    _di("2A", "recipient_address_line5", "Ligne 5 de la norme adresse postale du destinataire de la facture", 0, 38),
    _di("2B", "recipient_postcode", "Code postal ou code cedex du destinataire de la facture", 5, 5),
    _di("2C", "recipient_city", "Localité de destination ou libellé cedex du destinataire de la facture", 0, 32),
    _di("2D", "recipient_country", "Pays du destinataire de la facture", 2, 2),
    # --- bank details (types 03, 05)
    _di("30", "account_holder", "Qualité, nom et prénom", 0, 140),
    _di("31", "iban", "Code IBAN", 14, 38),
    _di("32", "bic", "Code BIC/SWIFT", 8, 11),
    _di("33", "bban", "Code BBAN", 0, 30),
    _di("34", "account_country", "Pays de localisation du compte", 2, 2),
    _di("35", "sepamail_id", "Identifiant SEPAmail (QXBAN)", 14, 34),
    # --- tax notices (types 04, 18, 24, 27, 28)
    _di("40", "tax_number", "Numéro fiscal", 13, 13),
    _di("41", "reference_tax_income", "Revenu fiscal de référence", 0, None),
    _di("42", "household_status", "Situation du foyer", 0, None),
    _di("43", "tax_shares", "Nombre de parts", 0, None),
    _di("44", "tax_notice_reference", "Référence d'avis d'impôt", 13, 13),
    _di("45", "income_year", "Année des revenus", 4, 4),
    _di("46", "declarant1", "Déclarant 1", 0, 38),
    _di("47", "declarant1_tax_number", "Numéro fiscal du déclarant 1", 13, 13),
    _di("48", "declarant2", "Déclarant 2", 0, 38),
    _di("49", "declarant2_tax_number", "Numéro fiscal du déclarant 2", 13, 13),
    _di("4A", "collection_date", "Date de mise en recouvrement", 8, 8),
    _di("4B", "declaration_date", "Date de la déclaration", 8, 8),
    _di("4V", "net_income_tax", "Impôt sur le revenu net", 0, None),
    _di("4W", "amount_due", "Reste à payer", 0, None),
    _di("4X", "withholding_tax", "Retenue à la source", 0, None),
    _di("4Y", "tax_address", "Adresse", 0, None),
    # --- payslips and employment (types 06, 10)
    _di("50", "employer_siret", "SIRET de l'employeur", 14, 14),
    _di("51", "hours_worked", "Nombre d'heures travaillées", 6, 6),
    _di("52", "hours_worked_total", "Cumul du nombre d'heures travaillées", 7, 7),
    _di("53", "period_start", "Début de période", 4, 4),
    _di("54", "period_end", "Fin de période", 4, 4),
    _di("55", "contract_start", "Date de début de contrat", 8, 8),
    _di("56", "contract_end", "Date de fin de contrat", 4, 4),
    _di("57", "contract_signature_date", "Date de signature du contrat", 8, 8),
    _di("58", "net_taxable_salary", "Salaire net imposable", 0, 11),
    _di("59", "net_taxable_salary_total", "Cumul du salaire net imposable", 0, 12),
    _di("5A", "gross_salary", "Salaire brut du mois", 0, 11),
    _di("5B", "gross_salary_total", "Cumul du salaire brut", 0, 12),
    _di("5C", "net_salary", "Salaire net", 0, 11),
    # --- identity (types 07, 08, 13) and home address (tax notice V2, type 28)
    _di("60", "given_names", "Liste des prénoms", 0, 60),
    _di("61", "first_name", "Prénom", 0, 20),
    _di("62", "birth_name", "Nom patronymique", 0, 38),
    _di("63", "usual_name", "Nom d'usage", 0, 38),
    _di("64", "spouse_name", "Nom d'épouse/époux", 0, 38),
    _di("65", "id_document_type", "Type de pièce d'identité", 2, 2),
    _di("66", "id_document_number", "Numéro de la pièce d'identité", 0, 20),
    _di("67", "nationality", "Nationalité", 2, 2),
    _di("68", "sex", "Genre", 1, 1),
    _di("69", "birth_date", "Date de naissance", 8, 8),
    _di("6A", "birth_place", "Lieu de naissance", 0, 32),
    _di("6B", "issuing_department", "Département du bureau émetteur", 3, 3),
    _di("6C", "birth_country", "Pays de naissance", 2, 2),
    _di("6D", "father_name", "Nom et prénom du père", 0, 60),
    _di("6E", "mother_name", "Nom et prénom de la mère", 0, 60),
    _di("6F", "mrz", "Machine Readable Zone (zone de lecture automatique)", 0, 90),
    _di("6S", "home_address_line2", "Ligne 2 de l'adresse postale du domicile", 0, 38),
    _di("6T", "home_address_line3", "Ligne 3 de l'adresse postale du domicile", 0, 38),
    _di("6U", "home_address_line4", "Ligne 4 de l'adresse postale du domicile", 0, 38),
    _di("6V", "home_address_line5", "Ligne 5 de l'adresse postale du domicile", 0, 38),
    _di("6W", "home_postcode", "Code postal ou code cedex de l'adresse postale du domicile", 5, 5),
    _di("6X", "home_city", "Commune de l'adresse postale du domicile", 0, 32),
    _di("6Y", "home_country", "Code pays de l'adresse postale du domicile", 2, 2),
)

DATA_IDENTIFIERS: dict[str, DataIdentifier] = {d.id: d for d in _TABLE}
"""Data identifiers of perimeter ``01`` known to casework, by 2-character id."""

PROOF_OF_ADDRESS = "proof_of_address"
TAX_NOTICE = "tax_notice"

DOC_TYPES: dict[str, DocType] = {
    t.code: t
    for t in (
        DocType("00", "Justificatif de domicile", PROOF_OF_ADDRESS),
        DocType("01", "Facture (énergie, téléphonie, accès internet, eau)", PROOF_OF_ADDRESS),
        DocType("02", "Avis de taxe d'habitation", PROOF_OF_ADDRESS),
        DocType("03", "Relevé d'identité bancaire", "bank"),
        DocType("04", "Avis d'impôt sur les revenus", TAX_NOTICE),
        DocType("05", "Relevé d'identité SEPAmail", "bank"),
        DocType("06", "Bulletin de salaire", "income"),
        DocType("07", "Titre d'identité", "identity"),
        DocType("08", "MRZ", "identity"),
        DocType("09", "Facture étendue", "fiscal"),
        DocType("10", "Contrat de travail", "employment"),
        DocType("11", "Relevé de compte", "bank"),
        DocType("12", "Acte d'huissier", "legal"),
        DocType("13", "Document étranger", "identity"),
        DocType("14", "Attestation DICEM", "vehicle"),
        DocType("15", "Attestation de décision favorable d'une demande d'autorisation de travail", "employment"),
        DocType("16", "Attestation de demande d'asile", "identity"),
        DocType("18", "Avis de situation déclarative à l'impôt sur les revenus", TAX_NOTICE),
        DocType("19", "Déclaration de dons", "fiscal"),
        DocType("20", "Déclaration de cession de droits sociaux", "fiscal"),
        DocType("21", "Attestation 2041-ASK", "fiscal"),
        DocType("24", "Avis de situation déclarative à l'impôt sur les revenus (V2)", TAX_NOTICE),
        DocType("25", "Autorisation de travail - AES métier en tension", "employment"),
        DocType("27", "Avis de situation déclarative à l'impôt sur les revenus (V3)", TAX_NOTICE),
        DocType("28", "Avis d'impôt sur les revenus (V2)", TAX_NOTICE),
        DocType("29", "Attestation d'activité professionnelle", "employment"),
        DocType("A0", "Certificat de qualité de l'air", "vehicle"),
        DocType("A1", "Courrier permis à points", "driving_licence"),
        DocType("A4", "Certificat de décès", "medical"),
        DocType("A7", "Certificat de qualité de l'air (V2)", "vehicle"),
        DocType("A8", "Certificat de cession électronique", "vehicle"),
        DocType("B0", "Diplôme", "academic"),
    )
}
"""Document types of perimeter ``01`` (C40), by code."""


def doc_type_name(code: str) -> str:
    """Official name of document type ``code``, or a placeholder naming the unknown code."""
    known = DOC_TYPES.get(code)
    return known.name if known else f"type de document inconnu ({code})"
