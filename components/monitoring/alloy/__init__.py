"""alloy"""
