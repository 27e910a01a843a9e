"""mlrails.contract"""
