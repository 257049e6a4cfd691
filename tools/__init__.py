"""videoqa.tools"""
