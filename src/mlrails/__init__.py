"""mlrails: put trained ML models on rails in production."""

__version__ = "0.1.0"
