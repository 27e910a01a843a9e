"""mlrails.detectors"""
