"""videoqa.models"""
