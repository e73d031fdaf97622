"""casework: open-source case management from intake to closure."""

__version__ = "0.1.0"
