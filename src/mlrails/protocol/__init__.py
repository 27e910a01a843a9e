"""mlrails.protocol"""
