"""Pricing rules."""
