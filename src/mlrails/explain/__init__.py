"""mlrails.explain"""
