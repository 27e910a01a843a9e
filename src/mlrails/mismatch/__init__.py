"""Mismatch between the eight ML-system descriptors: cross-descriptor rules and the
training-vs-production statistics read from the descriptors.

:func:`~mlrails.mismatch.check.check_descriptors` runs every rule of
:mod:`mlrails.mismatch.rules` on a descriptor set and returns a
:class:`~mlrails.mismatch.findings.MismatchReport`; :mod:`~mlrails.mismatch.render` shows it.
Drift of live traffic is :mod:`mlrails.drift`.
"""
