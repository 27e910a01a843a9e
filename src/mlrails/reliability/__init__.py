"""mlrails.reliability"""
