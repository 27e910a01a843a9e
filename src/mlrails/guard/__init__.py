"""mlrails.guard"""
