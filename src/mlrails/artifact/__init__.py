"""The rails artifact: a hashed, pickle-free directory holding everything the guard learnt."""

from mlrails.artifact.io import load_artifact, save_artifact
from mlrails.artifact.manifest import FORMAT_VERSION, read_manifest

__all__ = ["FORMAT_VERSION", "load_artifact", "read_manifest", "save_artifact"]
