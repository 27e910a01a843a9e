"""mlrails.cli"""
