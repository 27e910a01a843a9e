"""mlrails.artifact"""
