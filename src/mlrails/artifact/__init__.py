"""The rails artifact: a hashed, pickle-free directory holding everything the guard learnt."""

from mlrails.artifact.store import FORMAT_VERSION, load_artifact, save_artifact

__all__ = ["FORMAT_VERSION", "load_artifact", "save_artifact"]
