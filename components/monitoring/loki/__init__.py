"""loki"""
