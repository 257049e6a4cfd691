"""videoqa.agent"""
